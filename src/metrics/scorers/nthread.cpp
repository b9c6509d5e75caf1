// Needle Threading (NThread) accuracy, as LOOM-Scope's benchmarks/Retrieve/NThread eval.py score() does (loom-scope
// 0.8): a sample is correct (1) when every gold value occurs verbatim (case-sensitive substring) in the output, else
// 0; an empty list of gold values is vacuously correct (score() counts 0 of 0 found). The task score is the mean,
// i.e. per-task accuracy as upstream reports it.
#include "metrics/scorers/scorer_support.h"

namespace loom::metrics {

namespace {

double all_values(const std::string& prediction, const std::vector<std::string>& references, const nlohmann::json&) {
  for (const auto& value : references)
    if (prediction.find(value) == std::string::npos) return 0.0;
  return 1.0;
}

}  // namespace

std::vector<ScorerEntry> nthread_scorers() { return {{"nthread_all_values", all_values}}; }

}  // namespace loom::metrics
