// L-CiteEval (ZetangForward/L-CITEEVAL script/inference_1shot_vllm.py, re-implemented): a 1-shot prompt built from the
// task's prompt file (instruction, demo_prompt with {D} {INST} {Q} {A}, doc_prompt "Passage [{ID}]: {P}\n",
// demo_sep, demos[0]): the demo with its answer, demo_sep, then the test item with "{A}" removed and the text
// right-stripped; passages numbered from 1. dialsim replaces <<<chatbox>>> by the demo's `demo_role` / the item's
// `role`. Files: <data_dir>/<subset>/<task>.json (subset L-CiteEval-Data, -Length or -Hardness; option `subset`) or
// LOOM-Scope's <data_dir>/<subset>_<task>.jsonl
// and <data_dir>/prompt/<prompt_file> from the L-CiteEval GitHub repo (no licence there, so not copied here).
#include "common/error.h"
#include "benchmarks/configured_benchmark.h"
#include "benchmarks/data_files.h"
#include "benchmarks/text_util.h"

#include <fmt/format.h>

namespace loom::benchmarks {
namespace {

std::string doc_text(const nlohmann::json& doc) {
  if (doc.is_string()) return doc.get<std::string>();
  auto trim_newlines = [](std::string t) {
    size_t b = t.find_first_not_of('\n');
    size_t e = t.find_last_not_of('\n');
    return b == std::string::npos ? std::string() : t.substr(b, e - b + 1);
  };
  std::string text = trim_newlines(doc.value("text", std::string()));
  if (doc.contains("title")) {
    const std::string title = json_to_text(doc["title"]);
    if (text.compare(0, title.size() + 1, title + "\n") == 0) text = text.substr(title.size() + 1);
  }
  return text;
}

std::string make_demo(const nlohmann::json& item, std::string prompt, const std::string& doc_prompt,
                      const std::string& instruction, bool test) {
  if (prompt.find("{Q}") != std::string::npos) {
    prompt = replace_all(replace_all(prompt, "{INST}", instruction), "{Q}", json_to_text(item.value("question", nlohmann::json(""))));
  } else {
    prompt = replace_all(prompt, "{INST}", instruction);
  }
  if (prompt.find("{D}") != std::string::npos) {
    std::string docs;
    const auto& list = item.contains("docs") ? item["docs"] : nlohmann::json::array();
    for (size_t i = 0; i < list.size() && i < 1500; ++i)
      docs += replace_all(replace_all(doc_prompt, "{P}", doc_text(list[i])), "{ID}", std::to_string(i + 1));
    prompt = replace_all(prompt, "{D}", docs);
  }
  std::string out = replace_all(prompt, "{A}", "");
  out.erase(out.find_last_not_of(" \t\n\r\f\v") + 1);
  if (!test) {
    const auto& a = item["answer"];
    if (a.is_array()) {
      std::vector<std::string> lines;
      for (const auto& x : a) lines.push_back(json_to_text(x));
      out += "\n" + join(lines, "\n");
    } else {
      out += json_to_text(a);
    }
  }
  return out;
}

class LCiteEvalBenchmark : public ConfiguredBenchmark {
 public:
  using ConfiguredBenchmark::ConfiguredBenchmark;

  std::vector<Sample> expand(const BenchmarkSpec& spec, const PromptContext& ctx) const override {
    std::vector<Sample> samples;
    const std::string subset = option(spec, nullptr, "subset", "L-CiteEval-Data").get<std::string>();
    for (const TaskConfig* task : selected_tasks(spec)) {
      const std::string prompt_name = task->options.value("prompt_file", task->name + "_default.json");
      const std::filesystem::path prompt_path = require_data_file(spec, "prompt/" + prompt_name, config().published);
      const nlohmann::json p = read_json(prompt_path);
      for (const char* key : {"instruction", "demo_prompt", "doc_prompt", "demo_sep", "demos"})
        if (!p.contains(key)) throw InputError(prompt_path.string(), 0, key, "an L-CiteEval prompt file field");
      // The HF layout <subset>/<task>.json, else LOOM-Scope's per-task JSON lines <subset>_<task>.jsonl (LOOMBench).
      const std::string loomscope_name = subset + "_" + task->name + ".jsonl";
      const std::filesystem::path data =
          !spec.data_dir.empty() && std::filesystem::is_regular_file(spec.data_dir / loomscope_name) &&
                  !std::filesystem::is_regular_file(spec.data_dir / subset / (task->name + ".json"))
              ? spec.data_dir / loomscope_name
              : require_data_file(spec, subset + "/" + task->name + ".json", config().published);
      const std::vector<nlohmann::json> records = read_records(data);
      const bool dialsim = task->name == "dialsim";
      const std::string inst = p["instruction"].get<std::string>();
      const std::string demo_inst = dialsim ? replace_all(inst, "<<<chatbox>>>", p.value("demo_role", std::string())) : inst;
      const std::string head = make_demo(p["demos"][0], p["demo_prompt"], p["doc_prompt"], demo_inst, false) +
                               p["demo_sep"].get<std::string>();
      const size_t limit = sample_limit(spec, records.size());
      for (size_t i = 0; i < limit; ++i) {
        const auto& rec = records[i];
        const std::string item_inst = dialsim ? replace_all(inst, "<<<chatbox>>>", rec.value("role", std::string())) : inst;
        Sample s = new_sample(*task, spec, 0, static_cast<int64_t>(i));
        s.id = rec.contains("id") ? json_to_text(rec["id"]) : fmt::format("{}_{}", task->name, i);
        s.prompt = head + make_demo(rec, p["demo_prompt"], p["doc_prompt"], item_inst, true);
        const auto& a = rec.contains("answer") ? rec["answer"] : nlohmann::json();
        if (a.is_array()) {
          for (const auto& x : a) s.references.push_back(json_to_text(x));
          s.metadata["gold_counts"] = a;
        } else if (!a.is_null()) {
          s.references.push_back(json_to_text(a));
        }
        for (const char* key : {"length", "hardness"})
          if (rec.contains(key)) s.metadata[key] = rec[key];
        s.metadata["num_docs"] = rec.contains("docs") ? rec["docs"].size() : 0;
        // The passages as the data has them: the citation metrics' premises (metrics/judged/lciteeval_citation.h).
        s.metadata["docs"] = rec.contains("docs") ? rec["docs"] : nlohmann::json::array();
        samples.push_back(std::move(s));
      }
    }
    return samples;
  }
};

}  // namespace

std::unique_ptr<Benchmark> make_lciteeval_benchmark(BenchmarkConfig config) {
  return std::make_unique<LCiteEvalBenchmark>(std::move(config));
}

}  // namespace loom::benchmarks
