// Option keys per benchmark kind (see benchmark_options.h). Keep in step with the option(...) reads of each family;
// the jsonl kind also takes the option keys of its record transforms (record_transform.cpp's table).
#include "benchmarks/benchmark_options.h"
#include "benchmarks/record_transform.h"

#include "common/did_you_mean.h"
#include "common/error.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>

namespace loom::benchmarks {

namespace {

// Read by ConfiguredBenchmark for every kind.
const std::vector<std::string> kCommon = {"default_data_dir"};

const std::map<std::string, std::vector<std::string>>& table() {
  static const std::map<std::string, std::vector<std::string>> kinds = {
      {"jsonl",
       {"file", "length_field", "length_label", "references", "id_field", "metadata_fields", "metadata",
        "strip_fields", "rag_context", "rag_question", "rag_query"}},
      {"counting_stars", {"counting_times", "max_context_length", "language", "variant"}},
      {"lciteeval", {"subset", "prompt_file"}},
      {"longcite", {"datasets"}},
      {"leval", {"prompt_style", "fact_followup", "closed_ended"}},
      {"loogle", {"wordnet_dir"}},
      {"niah",
       {"needle", "retrieval_question", "answer", "final_context_length_buffer", "essay_json", "context_lengths_min",
        "context_lengths_max", "context_lengths_num_intervals", "depths", "document_depth_percent_min",
        "document_depth_percent_max", "document_depth_percent_intervals", "document_depth_percent_interval_type"}},
      {"longhealth", {"file", "task", "variants", "distractors", "unanswerable_text"}},
      {"nthread", {"task", "depths", "num_needles", "thread_length", "thread_direction", "num_threads",
                   "conditional_character", "uuid_seed", "default_num_samples"}},
      {"nolima", {"needle_set", "haystack_dir", "document_depth_percent_min", "document_depth_percent_max",
                  "document_depth_percent_intervals", "shift", "static_depth", "base_seed", "metric"}},
      {"ruler", {"noise", "task", "args", "default_num_samples", "default_essay_dir", "essay_json", "word_list"}},
  };
  return kinds;
}

}  // namespace

const std::vector<std::string>& option_keys(const std::string& kind) {
  static const std::map<std::string, std::vector<std::string>> with_common = [] {
    std::map<std::string, std::vector<std::string>> out;
    for (const auto& [name, keys] : table()) {
      out[name] = keys;
      if (name == "jsonl") {
        const std::vector<std::string> transform_keys = record_transform_option_keys();
        out[name].insert(out[name].end(), transform_keys.begin(), transform_keys.end());
      }
      out[name].insert(out[name].end(), kCommon.begin(), kCommon.end());
    }
    return out;
  }();
  static const std::vector<std::string> none;
  const auto it = with_common.find(kind);
  return it == with_common.end() ? none : it->second;
}

void check_option_keys(const nlohmann::json& options, const std::string& kind, const std::string& file, int line,
                       const std::string& key_prefix, const std::vector<std::string>& also_allowed) {
  if (!options.is_object() || option_keys(kind).empty()) return;  // an unknown kind is reported by the registry
  std::vector<std::string> allowed = also_allowed;
  const auto& keys = option_keys(kind);
  allowed.insert(allowed.end(), keys.begin(), keys.end());
  for (const auto& [key, value] : options.items()) {
    if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
    throw InputError(file, line, key_prefix + "." + key,
                     fmt::format("{} of a {} benchmark: {}{}",
                                 also_allowed.empty() ? "an option" : "a task setting or an option", kind,
                                 join_names(allowed), did_you_mean(key, allowed)));
  }
}

}  // namespace loom::benchmarks
