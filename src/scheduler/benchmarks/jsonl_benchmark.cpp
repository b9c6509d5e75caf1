// Record-per-sample benchmarks whose prompt is a template over the record's fields: LongBench/-E, LV-Eval,
// InfiniteBench, LongWriter, LIBRA and every custom benchmark YAML (kind: jsonl). Task/benchmark options:
//   file              data file relative to data_dir (or absolute, or — without data_dir — relative to the YAML),
//                     with {task} and {length} fields; a list names alternatives, the first that exists is read
//                     (BABILong: the HF layout, then LOOM-Scope's per-task JSON lines);
//                     .jsonl = one record per line, .json = array of records
//   length_label      "k": {length} is written 16k for 16384 or 16000 (LV-Eval, LIBRA); default: the integer
//   length_field      records whose field (e.g. LIBRA "length": "4k") differs from the length label are skipped
//   references        field holding the gold answer(s) (string, number or list)
//   choice_letter     true: references and metadata "label" = [answer text, its letter within `options`], as
//                     InfiniteBench's get_answer does for longbook_choice_eng and code_debug
//   label             true: metadata "label" = the raw gold value with its JSON type (InfiniteBench scorers)
//   derived_fields    "infinitebench": adds {func}, {func_call} (code_run) and {prefix} (math_find) as create_prompt
//   id_field          record id field (default "_id", then "id", then the record number)
//   metadata_fields   fields copied to Sample::metadata for the scorer (all_classes, length, answer_keywords, ...)
//   metadata          constant JSON object merged into every sample's metadata (e.g. {task: qa1})
//   strip_fields      fields inserted with surrounding whitespace stripped (LongBench v2's context.strip())
//   template_file     JSON file under data_dir holding the template (LIBRA's configs/datasets_config.json), with
//   template_key      a JSON pointer into it, {task} expanded (e.g. "/{task}/instruction")
// Template fields: any record field ({context}, {input}, ...), plus {OPTION_A}..{OPTION_D} from `options`.
#include "common/error.h"
#include "scheduler/benchmarks/configured_benchmark.h"
#include "scheduler/benchmarks/data_files.h"
#include "scheduler/benchmarks/text_util.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <string_view>

namespace loom::benchmarks {
namespace {

std::string length_text(int64_t length, const std::string& style) {
  if (style != "k") return std::to_string(length);
  if (length % 1024 == 0) return std::to_string(length / 1024) + "k";
  return std::to_string(length / 1000) + "k";
}

// InfiniteBench create_prompt's computed fields: the first "func_N(arg)" call of code_run's input
// (re.findall(r"func_[0-9]+\(\-?[0-9]+\)")[0]), and math_find's "What is <the target number> in the following
// list?" from the greedy match of re.findall(r"The .+ of")[0]. Linear scans, not std::regex: its backtracking
// recurses once per character and overflows the stack on the 40 KB inputs these tasks have.
size_t digits_at(std::string_view text, size_t pos) {
  size_t end = pos;
  while (end < text.size() && text[end] >= '0' && text[end] <= '9') ++end;
  return end - pos;
}

std::optional<std::string> first_function_call(std::string_view input) {
  for (size_t at = input.find("func_"); at != std::string_view::npos; at = input.find("func_", at + 1)) {
    size_t pos = at + 5;
    const size_t name_digits = digits_at(input, pos);
    if (name_digits == 0) continue;
    pos += name_digits;
    if (pos >= input.size() || input[pos] != '(') continue;
    ++pos;
    if (pos < input.size() && input[pos] == '-') ++pos;
    const size_t arg_digits = digits_at(input, pos);
    if (arg_digits == 0) continue;
    pos += arg_digits;
    if (pos >= input.size() || input[pos] != ')') continue;
    return std::string(input.substr(at, pos + 1 - at));
  }
  return std::nullopt;
}

// The leftmost "The " whose line (Python's `.` stops at '\n') holds a later " of" with at least one character
// between them; the match runs to the last such " of" of that line (greedy).
std::optional<std::string> greedy_the_of(std::string_view input) {
  for (size_t at = input.find("The "); at != std::string_view::npos; at = input.find("The ", at + 1)) {
    const size_t line_end = std::min(input.find('\n', at), input.size());
    const std::string_view line = input.substr(at, line_end - at);
    const size_t of = line.rfind(" of");
    if (of != std::string_view::npos && of >= 5) return std::string(line.substr(0, of + 3));
  }
  return std::nullopt;
}

std::optional<std::string> infinitebench_field(std::string_view name, const nlohmann::json& rec) {
  const std::string input = rec.contains("input") ? json_to_text(rec["input"]) : std::string();
  if (name == "func_call" || name == "func") {
    const std::optional<std::string> call = first_function_call(input);
    if (!call) return std::nullopt;
    return name == "func" ? call->substr(0, call->find('(')) : *call;
  }
  if (name == "prefix") {
    const std::optional<std::string> match = greedy_the_of(input);
    if (!match) return std::nullopt;
    std::string t = *match;
    std::transform(t.begin(), t.end(), t.begin(), [](unsigned char c) { return std::tolower(c); });
    return "What is " + t.substr(0, t.size() - 3) + " in the following list?";
  }
  return std::nullopt;
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

  // The task's template, or the one a data file names (template_file + template_key).
  std::string task_template(const BenchmarkSpec& spec, const TaskConfig& task) const {
    const nlohmann::json file_opt = option(spec, &task, "template_file", nullptr);
    if (!file_opt.is_string()) return task.template_text;
    const std::string key = replace_all(option(spec, &task, "template_key", "/{task}/instruction").get<std::string>(),
                                        "{task}", task.name);
    const std::filesystem::path file = require_data_file(spec, file_opt.get<std::string>(), config().published);
    const nlohmann::json doc = read_json(file);
    const nlohmann::json::json_pointer pointer(key);
    if (!doc.contains(pointer) || !doc[pointer].is_string())
      throw InputError(file.string(), 0, key, "a template string for task " + task.name);
    return doc[pointer].get<std::string>();
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
    const bool choice_letter = option(spec, &task, "choice_letter", false).get<bool>();
    const bool raw_label = option(spec, &task, "label", false).get<bool>();
    const bool infinitebench = option(spec, &task, "derived_fields", "").get<std::string>() == "infinitebench";
    const std::string id_field = option(spec, &task, "id_field", "").get<std::string>();
    const nlohmann::json md_fields = option(spec, &task, "metadata_fields", nlohmann::json::array());
    const nlohmann::json md_const = option(spec, &task, "metadata", nlohmann::json::object());
    const nlohmann::json strip_fields = option(spec, &task, "strip_fields", nlohmann::json::array());
    const std::string tmpl = task_template(spec, task);
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
      s.prompt = render_template(tmpl, [&](std::string_view name) -> std::optional<std::string> {
        auto it = rec.find(std::string(name));
        if (it != rec.end()) {
          for (const auto& f : strip_fields)
            if (f == std::string(name)) return strip(json_to_text(*it));
          return json_to_text(*it);
        }
        if (name.size() == 8 && name.substr(0, 7) == "OPTION_" && rec.contains("options")) {
          const size_t k = static_cast<size_t>(name[7] - 'A');
          if (rec["options"].is_array() && k < rec["options"].size()) return json_to_text(rec["options"][k]);
        }
        if (infinitebench) return infinitebench_field(name, rec);
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
        if (raw_label) s.metadata["label"] = gold;
        if (choice_letter && rec.contains("options") && rec["options"].is_array()) {
          const auto& opts = rec["options"];
          const bool has_letter = s.references.size() == 2 && s.references[1].size() == 1 &&
                                  std::string("ABCD").find(s.references[1]) != std::string::npos;
          if (!has_letter) {
            const std::string first = s.references.empty() ? "" : s.references.front();
            s.references.resize(std::min<size_t>(s.references.size(), 1));
            for (size_t k = 0; k < opts.size() && k < 26; ++k)
              if (json_to_text(opts[k]) == first) s.references.push_back(std::string(1, static_cast<char>('A' + k)));
          }
          s.metadata["label"] = s.references;
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
