// Record-per-sample benchmarks whose prompt is a template over the record's fields: LongBench/-E, LV-Eval,
// InfiniteBench, LongWriter, LIBRA and every custom benchmark YAML (kind: jsonl). Task/benchmark options:
//   file              data file relative to data_dir (or absolute), with {task} and {length} placeholders;
//                     .jsonl = one record per line, .json = array of records
//   length_label      "k": {length} is written 16k for 16384 or 16000 (LV-Eval, LIBRA); default: the integer
//   length_field      records whose field (e.g. LIBRA "length": "4k") differs from the length label are skipped
//   references        field holding the gold answer(s) (string, number or list)
//   choice_letter     true: also add the letter of the gold answer within `options` (InfiniteBench choice tasks)
//   id_field          record id field (default "_id", then "id", then the record number)
//   metadata_fields   fields copied to Sample::metadata for the scorer (all_classes, length, answer_keywords, ...)
// Template placeholders: any record field ({context}, {input}, ...), plus {OPTION_A}..{OPTION_D} from `options`.
#include "common/error.h"
#include "scheduler/benchmarks/configured_benchmark.h"
#include "scheduler/benchmarks/data_files.h"
#include "scheduler/benchmarks/text_util.h"

#include <fmt/format.h>

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

  std::vector<Sample> expand(const BenchmarkSpec& spec, const PromptContext& ctx) const override {
    std::vector<Sample> samples;
    for (const TaskConfig* task : selected_tasks(spec)) {
      std::vector<int64_t> lengths = selected_lengths(spec);
      const std::string file_pattern = option(spec, task, "file", "{task}.jsonl").get<std::string>();
      const bool per_length = file_pattern.find("{length}") != std::string::npos;
      const std::string length_field = option(spec, task, "length_field", "").get<std::string>();
      if (lengths.empty() || (!per_length && length_field.empty())) lengths = {0};
      for (int64_t length : lengths) load_task(spec, *task, file_pattern, length_field, length, samples);
    }
    return samples;
  }

 private:
  void load_task(const BenchmarkSpec& spec, const TaskConfig& task, const std::string& file_pattern,
                 const std::string& length_field, int64_t length, std::vector<Sample>& out) const {
    const std::string style = option(spec, &task, "length_label", "").get<std::string>();
    const std::string label = length_text(length, style);
    const std::string relative = render_placeholders(file_pattern, [&](std::string_view name) -> std::optional<std::string> {
      if (name == "task") return task.name;
      if (name == "length") return label;
      return std::nullopt;
    });
    const std::filesystem::path file = std::filesystem::path(relative).is_absolute()
                                           ? std::filesystem::path(relative)
                                           : require_data_file(spec, relative, config().published);
    if (!std::filesystem::is_regular_file(file))
      throw InputError(config().file.string(), task.line, "tasks." + task.name + ".file",
                       fmt::format("an existing data file; {} does not exist", file.string()));
    const std::vector<nlohmann::json> records = read_records(file);
    const std::string ref_field = option(spec, &task, "references", "answers").get<std::string>();
    const bool choice_letter = option(spec, &task, "choice_letter", false).get<bool>();
    const std::string id_field = option(spec, &task, "id_field", "").get<std::string>();
    const nlohmann::json md_fields = option(spec, &task, "metadata_fields", nlohmann::json::array());
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
      s.prompt = render_placeholders(task.template_text, [&](std::string_view name) -> std::optional<std::string> {
        auto it = rec.find(std::string(name));
        if (it != rec.end()) return json_to_text(*it);
        if (name.size() == 8 && name.substr(0, 7) == "OPTION_" && rec.contains("options")) {
          const size_t k = static_cast<size_t>(name[7] - 'A');
          if (rec["options"].is_array() && k < rec["options"].size()) return json_to_text(rec["options"][k]);
        }
        return std::nullopt;
      }, &unknown);
      if (!unknown.empty())
        throw InputError(file.string(), line, unknown.front(),
                         fmt::format("a field `{}` used by the template of task {} ({})", unknown.front(), task.name,
                                     config().file.string()));
      if (!ref_field.empty() && rec.contains(ref_field)) {
        const auto& gold = rec[ref_field];
        if (gold.is_array()) {
          for (const auto& g : gold) s.references.push_back(json_to_text(g));
        } else if (!gold.is_null()) {
          s.references.push_back(json_to_text(gold));
        }
        if (choice_letter && rec.contains("options") && rec["options"].is_array()) {
          const auto& opts = rec["options"];
          const std::string first = s.references.empty() ? "" : s.references.front();
          for (size_t k = 0; k < opts.size() && k < 26; ++k)
            if (json_to_text(opts[k]) == first) s.references.push_back(std::string(1, static_cast<char>('A' + k)));
        }
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
