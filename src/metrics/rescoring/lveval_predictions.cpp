// LV-Eval <dataset>_<len>.jsonl (prediction.py) re-scored as infinigence/LVEval evaluation.py does.
#include "metrics/rescoring/harness_rescorers.h"

#include "common/error.h"
#include "metrics/rescoring/file_records.h"

#include <map>
#include <regex>

namespace loom::metrics::rescoring {

using nlohmann::json;

// evaluation.py: the dataset name is the file stem before the first match of `_.{1,3}k` (the length level);
// config.py's DATASET_METRIC on `pred`, answers[0] only (the loop breaks) and `gold_ans`; round(100 * mean, 2).
RescoreResult rescore_lveval(std::string task, const std::filesystem::path& file) {
  if (task.empty()) task = stem_before(file, ".jsonl");
  static const std::map<std::string, std::string> kMetrics = {
      {"hotpotwikiqa_mixup", "lveval_qa_f1_gold"},     {"loogle_SD_mixup", "lveval_qa_f1_gold"},
      {"loogle_CR_mixup", "lveval_qa_f1_gold"},        {"loogle_MIR_mixup", "lveval_qa_f1_gold"},
      {"multifieldqa_en_mixup", "lveval_qa_f1_gold"},  {"multifieldqa_zh_mixup", "lveval_qa_f1_zh_gold"},
      {"factrecall_en", "lveval_qa_f1"},               {"factrecall_zh", "lveval_qa_f1_zh"},
      {"cmrc_mixup", "lveval_qa_f1_zh_gold"},          {"lic_mixup", "lveval_qa_f1_zh_gold"},
      {"dureader_mixup", "lveval_rouge_zh_blacklist"}};
  std::smatch level;
  const std::string dataset =
      std::regex_search(task, level, std::regex("_.{1,3}k")) ? task.substr(0, level.position(0)) : task;
  auto it = kMetrics.find(dataset);
  if (it == kMetrics.end())
    throw InputError(file.string(), 0, "task",
                     "an LV-Eval dataset with its length level, e.g. hotpotwikiqa_mixup_16k (got '" + task + "')");
  auto scorer = make_scorer(it->second);
  auto records = read_jsonl_records(file);
  RescoreResult r = make_result("LVEval", task, file.string(), scorer->name(), "0-100");
  double sum = 0;
  int line = 0;
  for (const auto& rec : records) {
    ++line;
    const std::string pred = string_field(rec, {"pred"}, file, line);
    const json& answers = field(rec, {"answers"}, file, line);
    if (!answers.is_array() || answers.empty() || !answers[0].is_string())
      throw InputError(file.string(), line, "answers", "a non-empty list of answer strings");
    json meta = json::object();
    if (rec.contains("gold_ans") && rec.at("gold_ans").is_string()) meta["gold_ans"] = rec.at("gold_ans");
    sum += scorer->score(pred, {answers[0].get<std::string>()}, meta);
  }
  r.samples = records.size();
  r.score = python_round(100 * sum / static_cast<double>(records.size()), 2);
  return r;
}

}  // namespace loom::metrics::rescoring
