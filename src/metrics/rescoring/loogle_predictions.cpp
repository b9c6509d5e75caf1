// LooGLE prediction files, re-scored with automatic_eval.py's functions (the loogle_* scorers):
//  * LooGLE's own Output/<task>_<model>.jsonl (Prediction/pred_*.py): one line per document, lists `llm_output` and
//    `output` (QA pairs in order). automatic_sim (QA, summarization): the breakdown holds get_semantic_matching's
//    mean of each metric over every pair, 0-1 (BLEU-1, BLEU-4, ROUGE-1, ROUGE-2, ROUGE-L recall, METEOR).
//    automatic_match (shortdep_cloze): get_match_score's pooled round(matched / masks, 4) for exact and partial.
//  * LOOM-Scope's prediction/<save_tag>/<task>.jsonl: one pair per line, strings `llm_output` and `output`; each
//    metric is round(mean of 100 x value, 2), as its evaluate() writes them.
// BERTScore is not computed, so neither harness's task total can be: `score` is the mean of the breakdown (LOOM-Scope's
// task score is the mean of its metrics, BERTScore included). METEOR needs the WordNet database at
// /usr/share/wordnet; where it is missing, METEOR is left out and the metric name says why.
// The task is the LooGLE task the file name starts with.
#include "metrics/rescoring/harness_rescorers.h"

#include "common/error.h"
#include "metrics/rescoring/file_records.h"
#include "metrics/text/wordnet.h"

#include <array>
#include <cmath>

namespace loom::metrics::rescoring {

using nlohmann::json;

namespace {

const std::array<const char*, 4> kTasks = {"shortdep_qa", "shortdep_cloze", "longdep_qa", "longdep_summarization"};

std::string task_of(std::string task, const std::filesystem::path& file) {
  if (!task.empty()) return task;
  const std::string name = file.filename().string();
  for (const char* t : kTasks)
    if (name.rfind(t, 0) == 0 && (name.size() == std::string(t).size() || name[std::string(t).size()] == '_' ||
                                  name[std::string(t).size()] == '.'))
      return t;
  throw InputError(file.string(), 0, "task",
                   "a --task or a file name starting with a LooGLE task (shortdep_qa, shortdep_cloze, longdep_qa, "
                   "longdep_summarization)");
}

std::string reference_text(const json& value) { return value.is_string() ? value.get<std::string>() : value.dump(); }

}  // namespace

RescoreResult rescore_loogle(std::string task, const std::filesystem::path& file) {
  task = task_of(std::move(task), file);
  const bool cloze = task == "shortdep_cloze";
  std::vector<std::string> metrics = cloze ? std::vector<std::string>{"loogle_cloze_exact", "loogle_cloze_partial"}
                                           : std::vector<std::string>{"loogle_bleu1", "loogle_bleu4", "loogle_rouge1",
                                                                      "loogle_rouge2", "loogle_rougel", "loogle_meteor"};
  std::string metric_name = cloze ? "loogle automatic_match" : "loogle automatic_sim";
  const std::string wordnet_missing = cloze ? "" : text::WordNet::unavailable_reason(text::WordNet::kDefaultDir);
  if (!wordnet_missing.empty()) {
    metrics.pop_back();
    metric_name += " (METEOR not computed: " + wordnet_missing + ")";
  }
  std::vector<std::unique_ptr<Scorer>> scorers;
  for (const auto& m : metrics) scorers.push_back(make_scorer(m));
  const auto records = read_jsonl_records(file);
  // (prediction, reference) pairs; LOOM-Scope's files have one per line, LooGLE's a list per document.
  std::vector<std::pair<std::string, std::string>> pairs;
  bool loomscope = false;
  int line = 0;
  for (const auto& rec : records) {
    ++line;
    const json& predicted = field(rec, {"llm_output"}, file, line);
    const json& gold = field(rec, {"output"}, file, line);
    if (predicted.is_string()) {
      loomscope = true;
      pairs.emplace_back(predicted.get<std::string>(), reference_text(gold));
      continue;
    }
    if (!predicted.is_array() || !gold.is_array() || predicted.size() != gold.size())
      throw InputError(file.string(), line, "llm_output",
                       "a string (LOOM-Scope) or a list as long as `output` (LooGLE's pred_*.py)");
    for (size_t k = 0; k < predicted.size(); ++k) {
      if (!predicted[k].is_string())
        throw InputError(file.string(), line, "llm_output", "a list of generated texts");
      pairs.emplace_back(predicted[k].get<std::string>(), reference_text(gold[k]));
    }
  }
  RescoreResult r = make_result("LooGLE", task, file.string(), metric_name, loomscope ? "0-100" : "0-1");
  r.samples = pairs.size();
  if (pairs.empty()) throw InputError(file.string(), 0, "llm_output", "at least one generated text");
  const json no_metadata = json::object();
  double total = 0;
  for (size_t m = 0; m < metrics.size(); ++m) {
    double value = 0;
    if (cloze && !loomscope) {  // get_match_score: sum of matched masks / sum of masks, round 4
      double matched = 0, masks = 0;
      for (const auto& [prediction, reference] : pairs) {
        const double count = static_cast<double>(json::parse(reference).size());
        matched += std::round(scorers[m]->score(prediction, {reference}, no_metadata) * count);
        masks += count;
      }
      value = python_round(masks > 0 ? matched / masks : 0.0, 4);
    } else {
      double sum = 0;
      for (const auto& [prediction, reference] : pairs)
        sum += (loomscope ? 100.0 : 1.0) * scorers[m]->score(prediction, {reference}, no_metadata);
      value = sum / static_cast<double>(pairs.size());
      if (loomscope) value = python_round(value, 2);
    }
    r.breakdown.emplace_back(metrics[m].substr(std::string("loogle_").size()), value);
    total += value;
  }
  r.score = total / static_cast<double>(metrics.size());
  return r;
}

}  // namespace loom::metrics::rescoring
