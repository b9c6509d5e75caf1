// Scores results rows with the scorers their `metric` column names (comma separated; the row's score is the mean
// of its metrics, as LOOM-Scope). Failed rows score 0. A row whose references/metadata JSON is malformed or whose
// scorer throws is counted as failed with the reason. An unknown metric name is a configuration error: the
// factory's loom::InputError propagates.
#pragma once

#include "metrics/report/aggregation.h"
#include "metrics/scorer.h"
#include "results/result_row.h"

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace loom::metrics::report {

using ScorerFactory = std::function<std::unique_ptr<Scorer>(const std::string& metric_name)>;

std::vector<std::string> split_metric_names(const std::string& metric_column);

class RowScorer {
 public:
  explicit RowScorer(ScorerFactory factory) : factory_(std::move(factory)) {}
  ScoredRow score(const results::ResultRow& row);

 private:
  const Scorer& scorer(const std::string& name);
  ScorerFactory factory_;
  std::map<std::string, std::unique_ptr<Scorer>> scorers_;
};

}  // namespace loom::metrics::report
