// Record-per-sample benchmarks whose prompt is a template over the record's fields: LongBench/-E, LV-Eval,
// InfiniteBench, LongWriter, LIBRA and every custom benchmark YAML (kind: jsonl). Task/benchmark options:
//   file              data file relative to data_dir (or absolute, or — without data_dir — relative to the YAML),
//                     with {task} and {length} fields; a list names alternatives, the first that exists is read
//                     (BABILong: the HF layout, then LOOM-Scope's per-task JSON lines);
//                     .jsonl = one record per line, .json = array of records
//   length_label      "k": {length} is written 16k for 16384 or 16000 (LV-Eval, LIBRA); default: the integer
//   length_field      records whose field (e.g. LIBRA "length": "4k") differs from the length label are skipped
//   references        field holding the gold answer(s) (string, number or list)
//   id_field          record id field (default "_id", then "id", then the record number)
//   metadata_fields   fields copied to Sample::metadata for the scorer (all_classes, length, answer_keywords, ...)
//   metadata          constant JSON object merged into every sample's metadata (e.g. {task: qa1})
//   strip_fields      fields inserted with surrounding whitespace stripped (LongBench v2's context.strip())
//   rag_context       the field retrieval replaces (LOOM-Scope's extract_contextAndquestion / update_context);
//   rag_question      the field that is the query, or rag_query: a fixed query (LongBench gov_report, ...)
// Template fields: any record field ({context}, {input}, ...), plus {OPTION_A}..{OPTION_D} from `options`.
// One benchmark's quirks are record transforms (record_transform.h), one file each under transforms/: InfiniteBench
// (options label, choice_letter, derived_fields), LIBRA (template_file, template_key) and LongBench v2's chain of
// thought (cot, cot_template, cot_answer_template, cot_max_new_tokens: a second generation after the first).
#include "benchmarks/configured_benchmark.h"
#include "benchmarks/data_files.h"
#include "benchmarks/record_transform.h"
#include "benchmarks/retrieval_source.h"
#include "benchmarks/text_util.h"
#include "common/error.h"

#include <fmt/format.h>

#include <algorithm>
#include <string_view>

namespace loom::benchmarks {
namespace {

std::string length_text(int64_t length, const std::string& style) {
  if (style != "k") return std::to_string(length);
  if (length % 1024 == 0) return std::to_string(length / 1024) + "k";
  return std::to_string(length / 1000) + "k";
}

class JsonlBenchmark : public ConfiguredBenchmark {
 public:
  using ConfiguredBenchmark::ConfiguredBenchmark;

  std::vector<Sample> expand(const BenchmarkSpec& job_spec, const PromptContext& ctx) const override {
    const BenchmarkSpec spec = with_default_data_dir(job_spec);
    std::vector<Sample> samples;
    for (const TaskConfig* task : selected_tasks(spec)) {
      std::vector<int64_t> lengths = selected_lengths(spec);
      const std::vector<std::string> file_patterns = patterns(option(spec, task, "file", "{task}.jsonl"), *task);
      const bool per_length = std::any_of(file_patterns.begin(), file_patterns.end(), [](const std::string& p) {
        return p.find("{length}") != std::string::npos;
      });
      const std::string length_field = option(spec, task, "length_field", "").get<std::string>();
      if (lengths.empty() || (!per_length && length_field.empty())) lengths = {0};
      for (int64_t length : lengths) load_task(spec, *task, file_patterns, length_field, length, samples);
    }
    return samples;
  }

 private:
  // `file`: a string or a non-empty list of strings.
  std::vector<std::string> patterns(const nlohmann::json& option, const TaskConfig& task) const {
    std::vector<std::string> out;
    if (option.is_string()) out.push_back(option.get<std::string>());
    if (option.is_array()) {
      for (const auto& item : option) {
        if (!item.is_string()) {
          out.clear();
          break;
        }
        out.push_back(item.get<std::string>());
      }
    }
    if (out.empty())
      throw InputError(config().file.string(), task.line, "tasks." + task.name + ".file",
                       "a data file name or a non-empty list of them");
    return out;
  }

  void load_task(const BenchmarkSpec& spec, const TaskConfig& task, const std::vector<std::string>& file_patterns,
                 const std::string& length_field, int64_t length, std::vector<Sample>& out) const {
    const std::string style = option(spec, &task, "length_label", "").get<std::string>();
    const std::string label = length_text(length, style);
    auto render = [&](const std::string& pattern) {
      return render_template(pattern, [&](std::string_view name) -> std::optional<std::string> {
        if (name == "task") return task.name;
        if (name == "length") return label;
        return std::nullopt;
      });
    };
    // The first alternative that exists under data_dir; else the first one (its absence is the error reported).
    std::string relative = render(file_patterns.front());
    for (const std::string& pattern : file_patterns) {
      const std::string candidate = render(pattern);
      if (!spec.data_dir.empty() && std::filesystem::is_regular_file(spec.data_dir / candidate)) {
        relative = candidate;
        break;
      }
    }
    // Absolute, else under data_dir, else (custom benchmarks without data_dir) next to the benchmark's YAML.
    std::filesystem::path file = relative;
    if (file.is_relative()) {
      const std::filesystem::path beside = config().file.parent_path() / relative;
      file = spec.data_dir.empty() && std::filesystem::is_regular_file(beside)
                 ? beside
                 : require_data_file(spec, relative, config().published);
    }
    if (!std::filesystem::is_regular_file(file))
      throw InputError(config().file.string(), task.line, "tasks." + task.name + ".file",
                       fmt::format("an existing data file; {} does not exist", file.string()));
    const std::vector<nlohmann::json> records = read_records(file);
    const std::string ref_field = option(spec, &task, "references", "answers").get<std::string>();
    const std::string id_field = option(spec, &task, "id_field", "").get<std::string>();
    const nlohmann::json md_fields = option(spec, &task, "metadata_fields", nlohmann::json::array());
    const nlohmann::json md_const = option(spec, &task, "metadata", nlohmann::json::object());
    const nlohmann::json strip_fields = option(spec, &task, "strip_fields", nlohmann::json::array());
    const TransformContext transform_context{
        spec, task, config(),
        [&](const std::string& key, const nlohmann::json& fallback) { return option(spec, &task, key, fallback); }};
    const std::vector<std::unique_ptr<RecordTransform>> transforms = make_record_transforms(transform_context);
    std::string tmpl = task.template_text;
    for (const auto& transform : transforms) tmpl = transform->prompt_template(tmpl);
    const std::string rag_context = option(spec, &task, "rag_context", "").get<std::string>();
    const std::string rag_question = option(spec, &task, "rag_question", "").get<std::string>();
    const std::string rag_query = option(spec, &task, "rag_query", "").get<std::string>();
    const bool retrieval = spec.retrieval && !rag_context.empty();
    static const std::string kContextMarker = "\x1f\x1eLOOM_RAG_CONTEXT\x1e\x1f";
    const size_t limit = sample_limit(spec, records.size());
    size_t taken = 0;
    for (const auto& rec : records) {
      if (taken >= limit) break;
      const int line = rec.value("__line", 0);
      if (!length_field.empty() && length > 0 && rec.contains(length_field) &&
          json_to_text(rec[length_field]) != label)
        continue;
      Sample s = new_sample(task, spec, length, static_cast<int64_t>(taken));
      std::vector<std::string> unknown;
      auto field = [&](std::string_view name) -> std::optional<std::string> {
        auto it = rec.find(std::string(name));
        if (it != rec.end()) {
          std::string value = json_to_text(*it);
          for (const auto& f : strip_fields)
            if (f == std::string(name)) value = strip(value);
          if (retrieval && name == rag_context) {
            s.retrieval.context = std::move(value);
            return kContextMarker;
          }
          return value;
        }
        if (name.size() == 8 && name.substr(0, 7) == "OPTION_" && rec.contains("options")) {
          const size_t k = static_cast<size_t>(name[7] - 'A');
          if (rec["options"].is_array() && k < rec["options"].size()) return json_to_text(rec["options"][k]);
        }
        for (const auto& transform : transforms)
          if (std::optional<std::string> value = transform->field(name, rec)) return value;
        return std::nullopt;
      };
      s.prompt = render_template(tmpl, field, &unknown);
      // query_aware: false: the question is what the template puts after its one {context} (docs/acceleration.md).
      const size_t context_at = tmpl.find("{context}");
      if (context_at != std::string::npos && tmpl.find("{context}", context_at + 1) == std::string::npos &&
          context_at + 9 < tmpl.size()) {
        s.question_begin = static_cast<int64_t>(render_template(tmpl.substr(0, context_at + 9), field).size());
      }
      for (const auto& transform : transforms) transform->on_sample(field, s);
      if (!unknown.empty())
        throw InputError(file.string(), line, unknown.front(),
                         fmt::format("a field `{}` used by the template of task {} ({})", unknown.front(), task.name,
                                     config().file.string()));
      if (retrieval) {
        s.retrieval.present = true;
        if (!split_at_context(s.prompt, kContextMarker, s.retrieval))
          throw InputError(config().file.string(), task.line, "options.rag_context",
                           fmt::format("a field the template of task {} inserts once; it inserts `{}` twice",
                                       task.name, rag_context));
        replace_context(s, s.retrieval.context);  // the marker out, the context in
        s.retrieval.question =
            !rag_query.empty() ? rag_query
            : (!rag_question.empty() && rec.contains(rag_question)) ? json_to_text(rec[rag_question]) : "";
      }
      if (!ref_field.empty() && rec.contains(ref_field)) {
        const auto& gold = rec[ref_field];
        if (gold.is_array()) {
          for (const auto& g : gold) s.references.push_back(json_to_text(g));
        } else if (!gold.is_null()) {
          s.references.push_back(json_to_text(gold));
        }
        for (const auto& transform : transforms) transform->on_references(gold, rec, s);
      }
      if (!id_field.empty() && rec.contains(id_field)) s.id = json_to_text(rec[id_field]);
      else if (rec.contains("_id")) s.id = json_to_text(rec["_id"]);
      else if (rec.contains("id")) s.id = json_to_text(rec["id"]);
      else s.id = fmt::format("{}_{}", task.name, line);
      for (const auto& f : md_fields) {
        const std::string key = f.get<std::string>();
        if (rec.contains(key)) s.metadata[key] = rec[key];
      }
      s.metadata["source_file"] = file.filename().string();
      if (md_const.is_object()) s.metadata.update(md_const);
      out.push_back(std::move(s));
      ++taken;
    }
  }
};

}  // namespace

std::unique_ptr<Benchmark> make_jsonl_benchmark(BenchmarkConfig config) {
  return std::make_unique<JsonlBenchmark>(std::move(config));
}

}  // namespace loom::benchmarks
