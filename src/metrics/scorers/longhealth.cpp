// LongHealth, as LOOM-Scope's benchmarks/Specialization/LongHealth/utils/evaluation/eval.py scores it: a sample is
// correct (1) when the reference, the text of the correct option ("Question cannot be answered with provided
// documents" for task3, where only other patients' documents are given), occurs verbatim (case-sensitive
// substring) in the response, else 0. The task score is 100 x the mean (eval.py's ACC).
// kbressem/LongHealth's own scripts instead read the option letter after "The correct answer is" (not available
// here to check against; docs/metrics.md).
#include "metrics/scorers/scorer_support.h"

namespace loom::metrics {

namespace {

double contains_correct(const std::string& prediction, const std::vector<std::string>& references,
                        const nlohmann::json&) {
  if (references.empty()) return 0.0;
  return prediction.find(references.front()) != std::string::npos ? 1.0 : 0.0;
}

}  // namespace

std::vector<ScorerEntry> longhealth_scorers() {
  return with_aggregation({{"longhealth_contains", contains_correct}},
                          mean_aggregation("LOOM-Scope LongHealth eval.py: ACC = 100 x mean over the task's samples"));
}

}  // namespace loom::metrics
