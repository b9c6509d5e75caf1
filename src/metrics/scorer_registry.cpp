// make_scorer / known_metrics: the table of every scorer family (src/metrics/scorers/*.cpp), each entry with its
// official aggregation where the family defines one.
#include "common/error.h"
#include "metrics/scorer.h"
#include "metrics/scorers/scorer_support.h"

#include <map>

namespace loom::metrics {

namespace {

const std::map<std::string, ScorerEntry>& scorer_table() {
  static const std::map<std::string, ScorerEntry> table = [] {
    std::map<std::string, ScorerEntry> t;
    for (auto* family : {&longbench_scorers, &ruler_scorers, &babilong_scorers, &infinitebench_scorers,
                         &leval_scorers, &longbench_v2_scorers, &lveval_scorers, &counting_stars_scorers,
                         &libra_scorers, &longwriter_scorers, &lciteeval_scorers, &niah_scorers, &nthread_scorers,
                         &longins_scorers, &ada_leval_scorers, &loogle_scorers, &clongeval_scorers, &nolima_scorers,
                         &bamboo_scorers, &longhealth_scorers})
      for (auto& entry : family()) {
        LOOM_CHECK(t.count(entry.name) == 0, "scorer name '{}' registered twice", entry.name);
        std::string name = entry.name;
        t.emplace(std::move(name), std::move(entry));
      }
    return t;
  }();
  return table;
}

}  // namespace

std::unique_ptr<Scorer> make_scorer(const std::string& metric_name) {
  const auto& table = scorer_table();
  auto it = table.find(metric_name);
  if (it == table.end()) {
    std::string names;
    for (const auto& kv : table) names += (names.empty() ? "" : ", ") + kv.first;
    throw InputError("", 0, "metric", "unknown metric '" + metric_name + "'; known metrics: " + names);
  }
  return std::make_unique<FunctionScorer>(it->second);
}

std::vector<std::string> known_metrics() {
  std::vector<std::string> out;
  for (const auto& kv : scorer_table()) out.push_back(kv.first);
  return out;
}

}  // namespace loom::metrics
