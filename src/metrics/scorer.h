// Scorer contract: the official per-sample metric of a benchmark task, re-implemented exactly (normalisation,
// tokenisation, quirks). Scores are per sample in [0, 1] (reports multiply by 100); a task's score is the mean
// over its samples unless the benchmark defines otherwise. Scorers are looked up by the metric name stored in each
// results row (see src/results/result_row.h), so the metrics pass needs no benchmark registry.
// A scorer may carry its benchmark's official aggregation (lm-eval's MetricSpec.aggregate): the rule that turns a
// task's per-sample scores into the task score the benchmark's own scripts print (LEval's geometric mean of the
// ROUGE means, ...). The metrics pass and `loom_mpi score` share it.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace loom::metrics {

// One sample of a task as an official aggregation reads it.
struct TaskSample {
  int64_t index = 0;                            // position in the task's data, for rules that split by position
  std::map<std::string, double> metric_scores;  // 0–100 per metric of the row (0 for a failed sample)
};

struct OfficialAggregation {
  std::string rule;  // in words, for reports: "LEval auto_eval.py: ..."
  // The official task score (0–100) over every sample of `task`, samples ordered by index (never empty).
  std::function<double(const std::string& task, const std::vector<TaskSample>& samples)> task_score;
};

class Scorer {
 public:
  virtual ~Scorer() = default;
  virtual std::string name() const = 0;
  // metadata: the sample's scorer extras (e.g. LongBench all_classes, LongBench v2 answer letter, LVEval
  // answer_keywords, LongWriter required length).
  virtual double score(const std::string& prediction, const std::vector<std::string>& references,
                       const nlohmann::json& metadata) const = 0;
  // The benchmark's official aggregation, or nullptr where the report's mean is all there is.
  virtual std::shared_ptr<const OfficialAggregation> aggregation() const { return nullptr; }
};

// Throws loom::InputError (key "metric") for an unknown name.
std::unique_ptr<Scorer> make_scorer(const std::string& metric_name);
std::vector<std::string> known_metrics();

}  // namespace loom::metrics
