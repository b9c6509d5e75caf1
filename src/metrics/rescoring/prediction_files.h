// Re-scoring the prediction files the official harnesses write, with their official aggregation:
//  * BABILong   result CSV (columns target, output, question): accuracy = 100 * correct / N (compare_answers).
//  * Counting_Stars test_data records + answer: viz.ipynb's mean of the (counting time x context size) pivot, 0-1.
//  * LongIns / Ada_LEval LOOM-Scope <task>_<len>.jsonl: eval.py's mean F1 / dataset.py's accuracy, 0-100.
//  * InfiniteBench preds_<task>.jsonl (prediction|pred, ground_truth|label): mean score, 0-1 scale.
//  * LEval      <task>.pred.jsonl (gt, <model>_pred, evaluation): exam EM / F1 (0-100); rouge tasks: geometric mean
//               of the R1 / R2 / RL means (LEval_score); topic_retrieval_longchat and sci_fi averaged per split.
//  * LongBench  <dataset>.jsonl (pred, answers, all_classes, length): round(100 * mean, 2); task "<dataset>_e"
//               (LongBench-E) adds the 0-4k / 4-8k / 8k+ buckets.
//  * LongBench_v2 results/<model>[_cot].jsonl (judge, difficulty, length): result.py's Overall and the Easy / Hard /
//               Short / Medium / Long columns, each round(100 * mean, 1).
//  * LIBRA      predictions/<model>.json: eval.py's total_score over the file's datasets (task "total"), or with a
//               task that dataset's dataset_total_score (mean over its configured lengths, a missing one 0), 0-1.
//  * LongWriter models/<model>/pred.jsonl (length, response): eval_length.py's mean length score S_l (0-100).
//  * LooGLE     Output/<task>_<model>.jsonl (llm_output / output lists per document; automatic_eval.py's means, 0-1,
//               cloze pooled) or LOOM-Scope's <task>.jsonl (one pair per line, 0-100); score = mean of the metrics.
//  * LVEval     <dataset>_<len>.jsonl (pred, answers, gold_ans): evaluation.py's round(100 * mean, 2).
//  * CLongEval  inference_results/<model>/<dataset>/<size>.jsonl (answer, response_<model>): eval.py's
//               round(100 * mean, 5) per size, API-error rows skipped, StTDet answers rewritten as eval.py does.
//  * NIAH       gkamradt's result JSON files (one, or a folder of them): the viz notebook's pivot (mean judge score per
//               depth x context length) averaged over its cells, 1-10; niah_word_recall of the responses in the breakdown.
//  * RULER      <task>.jsonl (pred, outputs): evaluate.py's round(100 * mean, 2) and the null count.
// The task defaults to the one in the file name. `predictions` may be a folder for NIAH.
#pragma once

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace loom::metrics {

struct RescoreResult {
  std::string benchmark;  // canonical name, e.g. BABILong, LongBench_v2, RULER
  std::string task;
  std::string file;
  std::string metric;     // scorer / rule name
  std::string scale;      // "0-100" or "0-1"
  size_t samples = 0;     // samples scored
  size_t skipped = 0;     // rows the official script skips (e.g. LEval rows judged by LLM/human)
  double score = 0;       // the official number, on `scale`
  std::vector<std::pair<std::string, double>> breakdown;  // sub-scores (buckets, R1/R2/RL, splits)
};

// Throws loom::InputError naming the file / field for unreadable or malformed input, or an unknown benchmark.
RescoreResult rescore_predictions(const std::string& benchmark, const std::string& task,
                                  const std::filesystem::path& predictions);

std::vector<std::string> rescorable_benchmarks();

}  // namespace loom::metrics
