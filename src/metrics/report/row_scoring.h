// Scores results rows with the scorers their `metric` column names (comma separated; the row's score is the mean
// of its metrics, as LOOM-Scope). Failed rows score 0. A row whose references/metadata JSON is malformed or whose
// scorer throws is counted as failed with the reason. An unknown metric name is a configuration error: the
// factory's loom::InputError propagates.
#pragma once

#include "metrics/report/aggregation.h"
#include "metrics/scorer.h"
#include "results/result_row.h"
#include "results/verdicts.h"

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace loom::metrics::report {

using ScorerFactory = std::function<std::unique_ptr<Scorer>(const std::string& metric_name)>;

std::vector<std::string> split_metric_names(const std::string& metric_column);

// What the metrics pass knows about judged metrics (docs/judge.md): the verdicts stored with the file and whose
// verdicts count. A judged metric applies to every ok row of its benchmark; it is computed from the stored verdict
// of this judge model for the same request (re-parsed with upstream's rule), else not computed with the reason.
struct JudgedView {
  bool judge_configured = false;     // this pass was given a judge (job key `judge`, report --judge-url)
  std::string model;                 // the judge model whose verdicts count; empty: the one model they name
  std::vector<std::string> metrics;  // judged metrics to report; empty: every one that applies
  std::map<std::pair<std::string, std::string>, std::vector<results::Verdict>> verdicts;  // by (sample_key, metric)
  // L-CiteEval's NLI answers (row_citation.h): an NLI model or endpoint was given (judge.nli, report --nli-model-dir
  // or --nli-url) and whose answers count (empty: the one model they name). Without either, no NLI task row is scored
  // (not even those that need no check), so a task mean never covers a biased part of its rows.
  bool nli_configured = false;
  std::string nli_model;
  bool nli_answers = false;  // answers of that model (any model when empty) are stored
};
JudgedView make_judged_view(std::vector<results::Verdict> verdicts, bool judge_configured, std::string model,
                            std::vector<std::string> metrics);

class RowScorer {
 public:
  explicit RowScorer(ScorerFactory factory, const JudgedView* judged = nullptr)
      : factory_(std::move(factory)), judged_(judged) {}
  ScoredRow score(const results::ResultRow& row);

 private:
  const Scorer& scorer(const std::string& name);
  void add_judged(const results::ResultRow& row, const std::vector<std::string>& references,
                  const nlohmann::json& metadata, ScoredRow& out) const;
  ScorerFactory factory_;
  const JudgedView* judged_ = nullptr;
  std::map<std::string, std::unique_ptr<Scorer>> scorers_;
};

}  // namespace loom::metrics::report
