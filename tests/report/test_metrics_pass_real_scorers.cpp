// The metrics pass with the real scorers (loom::metrics::make_scorer): RULER string_match_all on rows whose
// prediction contains the reference, with two failed rows, gives 23/25 = 92.00.
#include "metrics/report/metrics_pass.h"
#include "results/result_store.h"
#include "results/result_test_rows.h"  // tests/results

#include <gtest/gtest.h>

#include <sstream>
#include <unistd.h>

namespace loom::metrics::report {
namespace {

TEST(MetricsPassRealScorers, RulerStringMatchAll) {
  const auto dir = std::filesystem::temp_directory_path() / ("loom_report_real_" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  const auto path = dir / "ruler.h5";
  {
    auto store = results::ResultStore::open(path, results::JobAttributes{});
    for (int i = 0; i < 25; ++i) store->append(results::testing::make_test_row(i));  // rows 3 and 14 failed
    store->close();
  }
  std::ostringstream out;
  MetricsPassResult result = run_metrics_pass(path, out);
  EXPECT_TRUE(result.wrote_metrics_group);
  EXPECT_NEAR(result.summary.methods.at("full").benchmarks.at("RULER").total.score, 92.0, 1e-9);
  EXPECT_NEAR(result.summary.methods.at("full").capabilities.at("Retrieval").score, 92.0, 1e-9);
  EXPECT_EQ(result.summary.failed, 2);
  EXPECT_NE(out.str().find("92.00"), std::string::npos) << out.str();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace loom::metrics::report
