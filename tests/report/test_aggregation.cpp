// Aggregation on hand-computed examples: sample-weighted benchmarks, mean-of-metrics tasks, capability and
// overall means, length columns and buckets (LOOM-Scope thresholds), failures, and per-method separation.
#include "common/error.h"
#include "metrics/report/aggregation.h"
#include "metrics/report/row_scoring.h"
#include "test_scorers.h"

#include <gtest/gtest.h>

namespace loom::metrics::report {
namespace {

ScoredRow row(const std::string& method, const std::string& benchmark, const std::string& task,
              const std::string& capability, int64_t target, int64_t context, std::map<std::string, double> metrics,
              bool failed = false) {
  ScoredRow r;
  r.sample_key = benchmark + "/" + task + "/" + std::to_string(context) + "/" + method;
  r.method = method;
  r.benchmark = benchmark;
  r.task = task;
  r.capability = capability;
  r.target_length = target;
  r.context_length = context;
  r.failed = failed;
  r.error = failed ? "out of memory" : "";
  r.metric_scores = metrics;
  double total = 0;
  for (const auto& [name, value] : metrics) total += value;
  r.score = metrics.empty() ? 0 : total / static_cast<double>(metrics.size());
  return r;
}

std::vector<ScoredRow> example() {
  return {
      row("full", "A", "a1", "Retrieval", 4096, 4000, {{"m", 100}}),
      row("full", "A", "a1", "Retrieval", 4096, 4000, {{"m", 0}}),
      row("full", "A", "a1", "Retrieval", 8192, 8100, {{"m", 100}}),
      row("full", "A", "a2", "Retrieval", 4096, 3000, {{"m", 50}}),
      row("full", "B", "b1", "Retrieval", 0, 5000, {{"m", 100}}),
      row("full", "B", "b1", "Retrieval", 0, 20000, {{"m", 0}}, true),
      row("full", "C", "c1", "Reasoning", 0, 130001, {{"m1", 100}, {"m2", 0}}),
      row("full", "C", "c1", "Reasoning", 0, 130000, {{"m1", 100}, {"m2", 100}}),
      row("snapkv", "A", "a1", "Retrieval", 4096, 4000, {{"m", 100}}),
  };
}

TEST(MethodCost, MeansOverGeneratedRowsAndRatioToFull) {
  auto with_cost = [](ScoredRow r, int64_t input, int64_t output, double prefill, double decode, int64_t kv,
                      int64_t peak, double density) {
    r.cost.input_tokens = input;
    r.cost.output_tokens = output;
    r.cost.prefill_seconds = prefill;
    r.cost.decode_seconds = decode;
    r.cost.kv_bytes = kv;
    r.cost.peak_memory_bytes = peak;
    r.cost.prefill_block_density = density;
    return r;
  };
  ScoredRow failed = row("snapkv", "A", "a1", "Retrieval", 4096, 4000, {{"m", 0}}, true);
  failed.generated = false;  // a generation failure costs nothing and is left out
  failed.cost.prefill_seconds = 100;
  const std::vector<ScoredRow> rows = {
      with_cost(row("full", "A", "a1", "Retrieval", 4096, 4000, {{"m", 100}}), 1000, 11, 2.0, 1.0, 4000, 50, 1.0),
      with_cost(row("full", "A", "a1", "Retrieval", 8192, 8000, {{"m", 100}}), 3000, 1, 4.0, 0.0, 12000, 70, 1.0),
      with_cost(row("snapkv", "A", "a1", "Retrieval", 4096, 4000, {{"m", 100}}), 1000, 5, 1.0, 0.4, 1000, 60, 1.0),
      with_cost(row("snapkv", "A", "a1", "Retrieval", 8192, 8000, {{"m", 0}}), 3000, 3, 3.0, 0.2, 1000, 40, 0.5),
      failed,
  };
  const Summary s = aggregate(rows);
  const MethodCost& full = s.methods.at("full").cost;
  EXPECT_EQ(full.generated, 2);
  EXPECT_DOUBLE_EQ(full.figure("prefill_seconds"), 3.0);
  // 1.0 s over 10 steps; the 1-token row has no decode step
  EXPECT_DOUBLE_EQ(full.figure("decode_ms_per_token"), 100.0);
  EXPECT_DOUBLE_EQ(full.figure("kv_bytes_per_token"), 4.0);     // 16000 bytes / 4000 prompt tokens
  EXPECT_DOUBLE_EQ(full.figure("kv_vs_full"), 1.0);
  EXPECT_EQ(full.figure("peak_memory_bytes"), 70);
  const MethodCost& snap = s.methods.at("snapkv").cost;
  EXPECT_EQ(snap.generated, 2);
  EXPECT_DOUBLE_EQ(snap.figure("prefill_seconds"), 2.0);
  EXPECT_DOUBLE_EQ(snap.figure("decode_ms_per_token"), 100.0);  // 0.6 s over 4 + 2 steps
  EXPECT_DOUBLE_EQ(snap.figure("kv_bytes_per_token"), 0.5);
  EXPECT_DOUBLE_EQ(snap.figure("kv_vs_full"), 0.125);
  EXPECT_EQ(snap.figure("peak_memory_bytes"), 60);
  EXPECT_DOUBLE_EQ(snap.figure("prefill_block_density"), 0.75);
  EXPECT_EQ(s.methods.at("snapkv").failed, 1);  // still counted as a failed sample for the scores
}

// The report's figures come from the cost table: one per column that aggregates (plus its ratio to "full"), in the
// table's order; prefill_shared_by is a mean over the generated rows.
TEST(MethodCost, FiguresFollowTheCostTable) {
  std::vector<std::string> names;
  for (const MethodCostFigure& f : method_cost_figures()) names.push_back(f.name);
  EXPECT_EQ(names, (std::vector<std::string>{"prefill_seconds", "decode_ms_per_token", "kv_bytes_per_token",
                                             "kv_vs_full", "peak_memory_bytes", "prefill_block_density",
                                             "prefill_shared_by"}));
  size_t from_table = 0;
  for (const CostColumn& column : cost_columns())
    from_table += column.figure.aggregation == CostAggregation::none ? 0 : column.figure.vs_full_name.empty() ? 1 : 2;
  EXPECT_EQ(from_table, names.size());

  auto shared = [](int32_t by, bool generated = true) {
    ScoredRow r = row("snapkv", "A", "a1", "Retrieval", 4096, 4000, {{"m", 100}});
    r.cost.prefill_shared_by = by;
    r.generated = generated;
    return r;
  };
  const Summary s = aggregate({shared(1), shared(3), shared(3), shared(13, false)});
  EXPECT_DOUBLE_EQ(s.methods.at("snapkv").cost.figure("prefill_shared_by"), 7.0 / 3.0);
  EXPECT_THROW(s.methods.at("snapkv").cost.figure("no_such_figure"), loom::Error);
}

TEST(LengthBuckets, FollowLoomScopeThresholds) {
  EXPECT_EQ(length_bucket(0), "0-8K");
  EXPECT_EQ(length_bucket(8000), "0-8K");
  EXPECT_EQ(length_bucket(8001), "8-16K");
  EXPECT_EQ(length_bucket(16000), "8-16K");
  EXPECT_EQ(length_bucket(16001), "16-32K");
  EXPECT_EQ(length_bucket(32768), "32-64K");
  EXPECT_EQ(length_bucket(64001), "64-128K");
  EXPECT_EQ(length_bucket(130000), "64-128K");
  EXPECT_EQ(length_bucket(131072), ">128K");
  EXPECT_EQ(length_column(4096, 3999).label, "4K");
  EXPECT_EQ(length_column(131072, 0).label, "128K");
  EXPECT_EQ(length_column(0, 20000).label, "16-32K");
  EXPECT_LT(length_column(0, 5000), length_column(4096, 0));
}

TEST(Aggregation, HandComputedExample) {
  Summary s = aggregate(example());
  EXPECT_EQ(s.rows, 9);
  EXPECT_EQ(s.failed, 1);
  ASSERT_EQ(s.failures.size(), 1u);
  EXPECT_EQ(s.failures[0].error, "out of memory");
  ASSERT_EQ(s.methods.size(), 2u);
  const MethodResult& full = s.methods.at("full");

  const BenchmarkResult& a = full.benchmarks.at("A");
  EXPECT_NEAR(a.tasks.at("a1").total.score, 200.0 / 3, 1e-9);
  EXPECT_EQ(a.tasks.at("a1").total.samples, 3);
  EXPECT_NEAR(a.tasks.at("a2").total.score, 50, 1e-9);
  EXPECT_NEAR(a.total.score, 62.5, 1e-9);  // (66.67·3 + 50·1) / 4, not the unweighted 58.33
  EXPECT_NEAR(a.tasks.at("a1").lengths.at(LengthColumn{4096, "4K"}).score, 50, 1e-9);
  EXPECT_NEAR(a.tasks.at("a1").lengths.at(LengthColumn{8192, "8K"}).score, 100, 1e-9);
  EXPECT_NEAR(a.lengths.at(LengthColumn{4096, "4K"}).score, 50, 1e-9);
  EXPECT_EQ(a.lengths.at(LengthColumn{4096, "4K"}).samples, 3);
  EXPECT_NEAR(a.buckets.at("0-8K").score, 50, 1e-9);
  EXPECT_NEAR(a.buckets.at("8-16K").score, 100, 1e-9);

  const BenchmarkResult& b = full.benchmarks.at("B");
  EXPECT_NEAR(b.total.score, 50, 1e-9);
  EXPECT_EQ(b.total.failed, 1);
  EXPECT_NEAR(b.lengths.at(length_column(0, 5000)).score, 100, 1e-9);
  EXPECT_NEAR(b.lengths.at(length_column(0, 20000)).score, 0, 1e-9);

  const TaskResult& c1 = full.benchmarks.at("C").tasks.at("c1");
  EXPECT_NEAR(c1.metrics.at("m1"), 100, 1e-9);
  EXPECT_NEAR(c1.metrics.at("m2"), 50, 1e-9);
  EXPECT_NEAR(c1.total.score, 75, 1e-9);
  EXPECT_NEAR(full.benchmarks.at("C").buckets.at(">128K").score, 50, 1e-9);
  EXPECT_NEAR(full.benchmarks.at("C").buckets.at("64-128K").score, 100, 1e-9);

  EXPECT_NEAR(full.capabilities.at("Retrieval").score, 56.25, 1e-9);
  EXPECT_EQ(full.capabilities.at("Retrieval").benchmarks, (std::vector<std::string>{"A", "B"}));
  EXPECT_NEAR(full.capabilities.at("Reasoning").score, 75, 1e-9);
  EXPECT_NEAR(full.overall, 62.5, 1e-9);
  EXPECT_EQ(full.samples, 8);
  EXPECT_EQ(full.failed, 1);

  EXPECT_NEAR(full.buckets.at("0-8K").score, 75, 1e-9);  // mean of A (50) and B (100)
  EXPECT_EQ(full.buckets.at("0-8K").samples, 4);
  EXPECT_NEAR(full.buckets.at("8-16K").score, 100, 1e-9);
  EXPECT_NEAR(full.buckets.at("16-32K").score, 0, 1e-9);
  EXPECT_NEAR(full.buckets.at(">128K").score, 50, 1e-9);
  EXPECT_FALSE(full.buckets.count("32-64K"));

  const MethodResult& snapkv = s.methods.at("snapkv");
  EXPECT_NEAR(snapkv.overall, 100, 1e-9);
  EXPECT_EQ(snapkv.benchmarks.size(), 1u);
}

TEST(Aggregation, EmptyInput) {
  Summary s = aggregate({});
  EXPECT_EQ(s.rows, 0);
  EXPECT_TRUE(s.methods.empty());
}

results::ResultRow result_row(const std::string& metric, const std::string& prediction,
                              const std::string& references, const std::string& status = "ok") {
  results::ResultRow r;
  r.sample_key = "k/" + metric + "/" + prediction;
  r.benchmark = "B";
  r.task = "t";
  r.capability = "General";
  r.metric = metric;
  r.prediction = prediction;
  r.references_json = references;
  r.metadata_json = "{}";
  r.method = "full";
  r.status = status;
  r.error = status == "ok" ? "" : "CUDA out of memory";
  return r;
}

TEST(RowScoring, MeanOfCommaSeparatedMetricsFailuresAndErrors) {
  EXPECT_EQ(split_metric_names(" exact, half ,,"), (std::vector<std::string>{"exact", "half"}));
  RowScorer scorer(testing::make_test_scorer);
  ScoredRow both = scorer.score(result_row("exact,half", "42", "[\"41\", \"42\"]"));
  EXPECT_FALSE(both.failed);
  EXPECT_NEAR(both.score, 75, 1e-9);
  EXPECT_NEAR(both.metric_scores.at("half"), 50, 1e-9);
  EXPECT_NEAR(scorer.score(result_row("exact", "42", "\"42\"")).score, 100, 1e-9);  // a bare string reference

  ScoredRow failed = scorer.score(result_row("exact", "42", "[\"42\"]", "failed"));
  EXPECT_TRUE(failed.failed);
  EXPECT_EQ(failed.score, 0);
  EXPECT_EQ(failed.error, "CUDA out of memory");

  ScoredRow bad_json = scorer.score(result_row("exact", "42", "[\"42\""));
  EXPECT_TRUE(bad_json.failed);
  EXPECT_NE(bad_json.error.find("scoring failed"), std::string::npos);
  EXPECT_TRUE(scorer.score(result_row("throws", "x", "[]")).failed);

  EXPECT_THROW(scorer.score(result_row("no_such_metric", "x", "[]")), InputError);
  EXPECT_THROW(scorer.score(result_row("", "x", "[]")), InputError);
}

}  // namespace
}  // namespace loom::metrics::report
