// Every metric a benchmark config names must be a scorer known to src/metrics (make_scorer), so a results row can
// always be scored, or a judged metric of that benchmark (LongSafety's longsafety_safety, docs/judge.md).
#include "test_support.h"

#include "metrics/judged/judged_metrics.h"
#include "metrics/scorer.h"
#include "benchmarks/benchmark_config.h"
#include "benchmarks/text_util.h"

#include <gtest/gtest.h>

namespace loom::benchmarks {
namespace {

TEST(MetricNames, EveryConfiguredMetricHasAScorer) {
  size_t checked = 0;
  for (const auto& file : list_files(testing::configs_dir(), ".yaml")) {
    const BenchmarkConfig config = load_benchmark_config(file);
    for (const auto& task : config.tasks) {
      for (const auto& metric : split_on(task.metric, ",")) {
        const metrics::judged::JudgedMetric* judged = metrics::judged::find_judged_score(metric);
        if (judged != nullptr) EXPECT_EQ(judged->benchmark, config.name) << config.name << "/" << task.name;
        else EXPECT_NO_THROW(metrics::make_scorer(metric)) << config.name << "/" << task.name << ": " << metric;
        ++checked;
      }
    }
  }
  // LEval's rouge tasks name three scorers; the total is over all configured tasks.
  EXPECT_GT(checked, 150u);
}

}  // namespace
}  // namespace loom::benchmarks
