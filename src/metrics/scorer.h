// Scorer contract: the official per-sample metric of a benchmark task, re-implemented exactly (normalisation,
// tokenisation, quirks). Scores are per sample in [0, 1] (reports multiply by 100); a task's score is the mean
// over its samples unless the benchmark defines otherwise. Scorers are looked up by the metric name stored in each
// results row (see src/results/result_row.h), so the metrics pass needs no benchmark registry.
#pragma once

#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <vector>

namespace loom::metrics {

class Scorer {
 public:
  virtual ~Scorer() = default;
  virtual std::string name() const = 0;
  // metadata: the sample's scorer extras (e.g. LongBench all_classes, LongBench v2 answer letter, LVEval
  // answer_keywords, LongWriter required length).
  virtual double score(const std::string& prediction, const std::vector<std::string>& references,
                       const nlohmann::json& metadata) const = 0;
};

// Throws loom::InputError (key "metric") for an unknown name.
std::unique_ptr<Scorer> make_scorer(const std::string& metric_name);
std::vector<std::string> known_metrics();

}  // namespace loom::metrics
