// LongBench-Cite (THUDM/LongCite @ d7d772e LongBench-Cite/pred_one_shot.py process, re-implemented): each record's
// context is split into sentences (metrics/judged/longcite_sentences.h: nltk Punkt, then 。；！？), each written after
// its <C{i}> marker with the text up to the next sentence (what precedes the first one is dropped), and the one-shot
// prompt (longcite_prompt.h) gets that passage for <<context>> and the query for <<question>>; one user turn. The
// answer's statements and citations are post-processed and judged by longcite_citation / longcite_correctness
// (metrics/judged/longcite_judge.cpp), which read the record's query, context, dataset and few_shot_scores from the
// row's metadata. Data: <data_dir>/LongBench-Cite.json (upstream's array of {idx, dataset, query, context, answer,
// few_shot_scores}), else <data_dir>/<task>.jsonl with the same fields. Tasks select records by their `dataset`
// (option `datasets`: the dataset names a task takes; LongBench-Cite's multifieldqa takes multifieldqa_en and _zh,
// as eval_cite.py's `dataset in x['dataset']` does).
#include "benchmarks/configured_benchmark.h"
#include "benchmarks/data_files.h"
#include "benchmarks/longcite_prompt.h"
#include "benchmarks/text_util.h"
#include "common/error.h"
#include "metrics/judged/longcite_sentences.h"

#include <fmt/format.h>

namespace loom::benchmarks {

std::string longcite_passage(const std::string& context) {
  const std::vector<metrics::judged::LongCiteSentence> sents = metrics::judged::longcite_split_sentences(context);
  std::string passage;
  for (size_t i = 0; i < sents.size(); ++i) {
    const size_t end = i + 1 < sents.size() ? sents[i + 1].start : context.size();
    passage += fmt::format("<C{}>", i) + context.substr(sents[i].start, end - sents[i].start);
  }
  return passage;
}

std::string longcite_prompt(const std::string& context, const std::string& query) {
  return replace_all(replace_all(std::string(kLongCiteOneShotPrompt), "<<context>>", longcite_passage(context)),
                     "<<question>>", query);
}

namespace {

std::string required_text(const nlohmann::json& rec, const char* key, const std::filesystem::path& file, size_t i) {
  if (!rec.is_object() || !rec.contains(key) || !rec[key].is_string())
    throw InputError(file.string(), static_cast<int64_t>(i + 1), key,
                     "a LongBench-Cite record with a string field (idx, dataset, query, context, answer)");
  return rec[key].get<std::string>();
}

class LongCiteBenchmark : public ConfiguredBenchmark {
 public:
  using ConfiguredBenchmark::ConfiguredBenchmark;

  std::vector<Sample> expand(const BenchmarkSpec& job_spec, const PromptContext&) const override {
    const BenchmarkSpec spec = with_default_data_dir(job_spec);
    std::vector<Sample> samples;
    std::filesystem::path file;
    std::vector<nlohmann::json> all;
    const bool native = !spec.data_dir.empty() && std::filesystem::is_regular_file(spec.data_dir / "LongBench-Cite.json");
    if (native) {
      file = spec.data_dir / "LongBench-Cite.json";
      all = read_records(file);
    }
    for (const TaskConfig* task : selected_tasks(spec)) {
      std::vector<nlohmann::json> records;
      std::filesystem::path source = file;
      if (native) {
        const nlohmann::json datasets = option(spec, task, "datasets", nlohmann::json::array({task->name}));
        for (const auto& rec : all) {
          const std::string dataset = rec.is_object() ? rec.value("dataset", std::string()) : std::string();
          for (const auto& d : datasets)
            if (d.is_string() && d.get<std::string>() == dataset) {
              records.push_back(rec);
              break;
            }
        }
      } else {
        source = require_data_file(spec, task->name + ".jsonl", config().published);
        records = read_records(source);
      }
      const size_t limit = sample_limit(spec, records.size());
      for (size_t i = 0; i < limit; ++i) {
        const nlohmann::json& rec = records[i];
        const std::string query = required_text(rec, "query", source, i);
        const std::string context = required_text(rec, "context", source, i);
        const std::string dataset = required_text(rec, "dataset", source, i);
        Sample s = new_sample(*task, spec, 0, static_cast<int64_t>(i));
        s.id = rec.contains("idx") ? json_to_text(rec["idx"]) : fmt::format("{}_{}", task->name, i);
        s.prompt = longcite_prompt(context, query);
        const nlohmann::json answer = rec.contains("answer") ? rec["answer"] : nlohmann::json::array();
        if (answer.is_array()) {
          for (const auto& a : answer) s.references.push_back(json_to_text(a));
        } else if (!answer.is_null()) {
          s.references.push_back(json_to_text(answer));
        }
        s.metadata["idx"] = rec.contains("idx") ? rec["idx"] : nlohmann::json(s.id);
        s.metadata["dataset"] = dataset;
        s.metadata["query"] = query;
        s.metadata["context"] = context;
        if (rec.contains("few_shot_scores")) s.metadata["few_shot_scores"] = rec["few_shot_scores"];
        samples.push_back(std::move(s));
      }
    }
    return samples;
  }
};

}  // namespace

std::unique_ptr<Benchmark> make_longcite_benchmark(BenchmarkConfig config) {
  return std::make_unique<LongCiteBenchmark>(std::move(config));
}

}  // namespace loom::benchmarks
