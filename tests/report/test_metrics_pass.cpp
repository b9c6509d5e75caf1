// The metrics pass end to end on a results file written by ResultStore, with test-double scorers: JSON summary
// next to the file, /metrics tables in it (rows still intact), printed tables, the journal of a killed run
// folded in, and a running writer's file left untouched.
#include "metrics/report/metrics_pass.h"
#include "results/hdf5_table.h"
#include "results/result_store.h"
#include "results/results_file.h"
#include "test_scorers.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <unistd.h>

namespace loom::metrics::report {
namespace {

results::ResultRow make_row(const std::string& benchmark, const std::string& task, int index, int64_t target,
                            int64_t context, const std::string& prediction, const std::string& method = "full") {
  results::ResultRow r;
  r.benchmark = benchmark;
  r.task = task;
  r.capability = benchmark == "RULER" ? "Retrieval" : "General";
  r.metric = "exact";
  r.sample_index = index;
  r.target_length = target;
  r.context_length = context;
  r.cost.input_tokens = context;
  r.cost.kv_bytes = context * (method == "full" ? 128 : 64);  // the compressed method holds half the cache per token
  r.prediction = prediction;
  r.references_json = "[\"yes\"]";
  r.metadata_json = "{}";
  r.method = method;
  r.sample_key = benchmark + "/" + task + "/" + std::to_string(target) + "/" + std::to_string(index) + "/" + method;
  return r;
}

class MetricsPassTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("loom_report_test_" + std::to_string(getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    path_ = dir_ / "run.h5";
    results::JobAttributes attributes;
    attributes.git_commit = "feedbeef";
    store_ = results::ResultStore::open(path_, attributes);
    store_->append(make_row("RULER", "niah_single_1", 0, 4096, 4000, "yes"));
    store_->append(make_row("RULER", "niah_single_1", 1, 4096, 4010, "no"));
    store_->append(make_row("RULER", "niah_single_1", 2, 8192, 8100, "yes"));
    store_->append(make_row("RULER", "vt", 0, 4096, 4050, "yes"));
    store_->append(make_row("LongBench", "qasper", 0, 0, 12000, "yes"));
    results::ResultRow failed = make_row("LongBench", "qasper", 1, 0, 70000, "");
    failed.status = "failed";
    failed.error = "sequence longer than the model's maximum";
    store_->append(failed);
    store_->append(make_row("RULER", "niah_single_1", 0, 4096, 4000, "no", "snapkv@0.5"));
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  MetricsPassResult run(std::ostream& out, MetricsPassOptions options = {}) {
    return run_metrics_pass(path_, out, options, testing::make_test_scorer);
  }

  std::filesystem::path dir_, path_;
  std::unique_ptr<results::ResultStore> store_;
};

TEST_F(MetricsPassTest, WritesJsonMetricsGroupAndTables) {
  store_->close();
  std::ostringstream out;
  MetricsPassResult result = run(out);
  EXPECT_TRUE(result.wrote_metrics_group);
  EXPECT_EQ(result.json_path, dir_ / "run.json");

  // RULER: niah 2/3, vt 1/1 → (66.67·3 + 100·1)/4 = 75; LongBench: 1/2 with one failure → 50; overall 62.5.
  const MethodResult& full = result.summary.methods.at("full");
  EXPECT_NEAR(full.benchmarks.at("RULER").total.score, 75, 1e-9);
  EXPECT_NEAR(full.benchmarks.at("LongBench").total.score, 50, 1e-9);
  EXPECT_NEAR(full.overall, 62.5, 1e-9);
  EXPECT_NEAR(result.summary.methods.at("snapkv@0.5").overall, 0, 1e-9);
  EXPECT_EQ(result.summary.failed, 1);

  std::ifstream json_file(result.json_path);
  nlohmann::json json = nlohmann::json::parse(json_file);
  EXPECT_NEAR(json["methods"]["full"]["overall"].get<double>(), 62.5, 1e-9);
  EXPECT_NEAR(json["methods"]["full"]["benchmarks"]["RULER"]["tasks"]["niah_single_1"]["lengths"]["4K"]["score"]
                  .get<double>(),
              50, 1e-9);
  EXPECT_NEAR(json["methods"]["full"]["length_buckets"]["8-16K"]["score"].get<double>(), 100, 1e-9);
  EXPECT_EQ(json["failures"].size(), 1u);
  EXPECT_EQ(json["methods"]["full"]["cost"]["generated"].get<int64_t>(), 5);  // 6 rows, one failed generation
  EXPECT_NEAR(json["methods"]["full"]["cost"]["kv_vs_full"].get<double>(), 1.0, 1e-12);
  EXPECT_NEAR(json["methods"]["snapkv@0.5"]["cost"]["kv_vs_full"].get<double>(), 0.5, 1e-12);
  // The summary's cost object: generated and every figure of the cost table, peak memory as an integer.
  std::set<std::string> keys = {"generated"};
  for (const MethodCostFigure& f : method_cost_figures()) keys.insert(f.name);
  std::set<std::string> written;
  for (const auto& [key, value] : json["methods"]["full"]["cost"].items()) written.insert(key);
  EXPECT_EQ(written, keys);
  EXPECT_TRUE(json["methods"]["full"]["cost"]["peak_memory_bytes"].is_number_integer());
  EXPECT_NEAR(json["methods"]["full"]["cost"]["prefill_shared_by"].get<double>(), 1.0, 1e-12);

  const std::string text = out.str();
  if (std::getenv("LOOM_SHOW_REPORT")) std::cout << text;  // to look at the tables
  for (const char* expected : {"Scores by task and target context length — method full", "(benchmark avg)", "4K", "8K",
                               "Scores by task and context-length bucket (natural data) — method full",
                               "Scores by context-length bucket", "Scores by capability", "Scores by method",
                               "snapkv@0.5", "Cost by method", "KV x full", "prefill block density",
                               "prefill shared by",
                               "Failures: 1 of 7 rows", "sequence longer", "summary: "})
    EXPECT_NE(text.find(expected), std::string::npos) << expected << "\n" << text;

  // The rows and attributes survive the rewrite; /metrics tables are readable.
  EXPECT_EQ(results::read_rows(path_).size(), 7u);
  EXPECT_EQ(results::read_attributes(path_).git_commit, "feedbeef");
  results::h5::Handle file(results::open_hdf5_read_only(path_), results::h5::Handle::Kind::file);
  auto overall = results::h5::read_table(file.get(), "metrics/overall",
                                         {{"method", results::h5::ColumnKind::string},
                                          {"score", results::h5::ColumnKind::float64}});
  ASSERT_EQ(overall.rows, 2u);
  EXPECT_EQ(std::get<std::vector<std::string>>(overall.columns.at("method"))[0], "full");
  EXPECT_NEAR(std::get<std::vector<double>>(overall.columns.at("score"))[0], 62.5, 1e-9);
  auto samples = results::h5::read_table(file.get(), "metrics/sample_scores",
                                         {{"sample_key", results::h5::ColumnKind::string}});
  EXPECT_EQ(samples.rows, 7u);

  // Running it again (report) replaces /metrics.
  std::ostringstream again;
  EXPECT_TRUE(run(again).wrote_metrics_group);
}

TEST_F(MetricsPassTest, RunningWriterKeepsItsFileAndJournalRowsAreScored) {
  // store_ is still open (a job in progress): its rows are read through the journal; /metrics is skipped.
  std::ostringstream out;
  MetricsPassResult result = run(out);
  EXPECT_FALSE(result.wrote_metrics_group);
  EXPECT_EQ(result.summary.rows, 7);
  EXPECT_NE(out.str().find("/metrics group was not written"), std::string::npos);
  EXPECT_TRUE(std::filesystem::exists(dir_ / "run.json"));
}

TEST_F(MetricsPassTest, JsonAndViewOptions) {
  store_->close();
  std::ostringstream json_out;
  MetricsPassOptions json_only;
  json_only.print_json = true;
  json_only.write_files = false;
  run(json_out, json_only);
  EXPECT_NEAR(nlohmann::json::parse(json_out.str())["methods"]["full"]["overall"].get<double>(), 62.5, 1e-9);
  EXPECT_FALSE(std::filesystem::exists(dir_ / "run.json"));

  std::ostringstream capability_out;
  MetricsPassOptions by_capability;
  by_capability.view = parse_table_view("capability");
  run(capability_out, by_capability);
  EXPECT_NE(capability_out.str().find("Scores by capability"), std::string::npos);
  EXPECT_EQ(capability_out.str().find("Scores by method"), std::string::npos);
  EXPECT_THROW(parse_table_view("benchmarkz"), InputError);
}

}  // namespace
}  // namespace loom::metrics::report
