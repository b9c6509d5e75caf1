// The official aggregations the scorers carry, through the metrics pass: a results file built from the prediction
// files of the rescoring fixtures (tests/fixtures/metrics/rescoring) gives, per task, the score `loom_mpi score`
// gives for that file (expected.jsonl, the values metrics_rescoring_test checks), and per benchmark the plain mean
// of those task scores as the official overall score, in the summary, the JSON and the printed task table.
#include "metrics/report/metrics_pass.h"
#include "results/result_store.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <map>
#include <sstream>
#include <unistd.h>

namespace loom::metrics::report {
namespace {

using nlohmann::json;

const std::string kFixtures = std::string(LOOM_SOURCE_DIR) + "/tests/fixtures/metrics/rescoring";

std::vector<json> read_lines(const std::string& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in) << path;
  std::vector<json> out;
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) out.push_back(json::parse(line));
  return out;
}

std::string stem(const std::string& file, const std::string& suffix) {
  std::string name = file.substr(file.rfind('/') + 1);
  return name.substr(0, name.size() - suffix.size());
}

results::ResultRow base_row(const std::string& benchmark, const std::string& task, int index) {
  results::ResultRow r;
  r.benchmark = benchmark;
  r.task = task;
  r.capability = "General";
  r.sample_index = index;
  r.sample_key = fmt::format("{}/{}/0/{}/full", benchmark, task, index);
  r.method = "full";
  r.method_params_json = "{}";
  r.references_json = "[]";
  r.metadata_json = "{}";
  return r;
}

// The rows a loom run of the same samples would write, from one official prediction file.
std::vector<results::ResultRow> rows_from_predictions(const std::string& benchmark, const std::string& file,
                                                      std::string& task) {
  std::vector<results::ResultRow> rows;
  const std::vector<json> records = read_lines(kFixtures + "/" + file);
  for (size_t i = 0; i < records.size(); ++i) {
    const json& rec = records[i];
    if (benchmark == "LongBench") {
      task = stem(file, ".jsonl");
      const std::map<std::string, std::string> metrics = {{"trec", "classification"}, {"qasper", "qa_f1"}};
      results::ResultRow r = base_row(benchmark, task, static_cast<int>(i));
      r.metric = metrics.at(task);
      r.prediction = rec.at("pred");
      r.references_json = rec.at("answers").dump();
      json meta = {{"dataset", task}};
      if (rec.contains("all_classes")) meta["all_classes"] = rec.at("all_classes");
      r.metadata_json = meta.dump();
      rows.push_back(r);
    } else if (benchmark == "InfiniteBench") {
      task = stem(file, ".jsonl").substr(6);  // preds_<task>
      results::ResultRow r = base_row(benchmark, task, static_cast<int>(i));
      r.metric = "infbench_" + task;
      r.prediction = rec.contains("prediction") ? rec.at("prediction") : rec.at("pred");
      r.metadata_json = json{{"label", rec.contains("ground_truth") ? rec.at("ground_truth") : rec.at("label")}}.dump();
      rows.push_back(r);
    } else {  // LEval
      task = stem(file, ".pred.jsonl");
      const std::string evaluation = rec.at("evaluation");
      if (evaluation != "exam" && evaluation != "f1" && evaluation != "rouge") continue;  // judged by LLM or human
      results::ResultRow r = base_row(benchmark, task, static_cast<int>(i));
      r.metric = evaluation == "exam" ? "leval_exam" : evaluation == "f1" ? "leval_f1"
                                                                           : "leval_rouge1,leval_rouge2,leval_rougel";
      for (const auto& [key, value] : rec.items())
        if (key.find("_pred") != std::string::npos) r.prediction = value;
      r.references_json = json::array({rec.at("gt")}).dump();
      r.metadata_json = json{{"task", task}}.dump();
      rows.push_back(r);
    }
  }
  return rows;
}

TEST(OfficialAggregation, MetricsPassPrintsEachBenchmarksOfficialOverallScore) {
  const auto dir = std::filesystem::temp_directory_path() / ("loom_report_official_" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  const auto path = dir / "official.h5";
  std::map<std::string, std::map<std::string, double>> expected;  // benchmark → task → official score (percent)
  {
    auto store = results::ResultStore::open(path, results::JobAttributes{});
    for (const json& c : read_lines(kFixtures + "/expected.jsonl")) {
      const std::string benchmark = c.at("benchmark");
      std::string task;
      for (const auto& row : rows_from_predictions(benchmark, c.at("file"), task)) store->append(row);
      // `loom_mpi score` prints InfiniteBench on 0-1; the report uses percent.
      expected[benchmark][task] = c.at("score").get<double>() * (benchmark == "InfiniteBench" ? 100 : 1);
    }
    store->close();
  }
  std::ostringstream out;
  const MetricsPassResult result = run_metrics_pass(path, out);
  const MethodResult& method = result.summary.methods.at("full");
  ASSERT_EQ(expected.size(), 3u);
  for (const auto& [benchmark, tasks] : expected) {
    const BenchmarkResult& b = method.benchmarks.at(benchmark);
    double total = 0;
    for (const auto& [task, score] : tasks) {
      ASSERT_TRUE(b.tasks.at(task).official.has_value()) << benchmark << " " << task;
      EXPECT_NEAR(*b.tasks.at(task).official, score, 1e-9) << benchmark << " " << task;
      total += score;
    }
    const double overall = total / static_cast<double>(tasks.size());
    ASSERT_TRUE(b.official.has_value()) << benchmark;
    EXPECT_NEAR(*b.official, overall, 1e-9) << benchmark;
    EXPECT_NEAR(result.json["methods"]["full"]["benchmarks"][benchmark]["official"]["score"].get<double>(), overall,
                1e-9);
    EXPECT_NE(out.str().find(fmt::format("{} official overall {:.2f}:", benchmark, overall)), std::string::npos)
        << out.str();
  }
  // LEval's rouge task: the geometric mean of the ROUGE means, not the mean the avg column shows.
  const TaskResult& gov = method.benchmarks.at("LEval").tasks.at("gov_report_summ");
  EXPECT_NEAR(*gov.official, 28.261434304707546, 1e-9);
  EXPECT_GT(gov.total.score, *gov.official + 1);
  EXPECT_NE(out.str().find("geometric mean of the R1, R2, RL means"), std::string::npos);
  EXPECT_NE(out.str().find("failed  official"), std::string::npos) << out.str();
  std::filesystem::remove_all(dir);
}

TEST(OfficialAggregation, BenchmarksWithoutOneKeepTheirTable) {
  const auto dir = std::filesystem::temp_directory_path() / ("loom_report_ruler_" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  const auto path = dir / "ruler.h5";
  {
    auto store = results::ResultStore::open(path, results::JobAttributes{});
    results::ResultRow r = base_row("RULER", "niah_single_1", 0);
    r.metric = "string_match_all";
    r.prediction = "1234";
    r.references_json = "[\"1234\"]";
    store->append(r);
    store->close();
  }
  std::ostringstream out;
  const MetricsPassResult result = run_metrics_pass(path, out);
  EXPECT_FALSE(result.summary.methods.at("full").benchmarks.at("RULER").official.has_value());
  EXPECT_EQ(out.str().find("official overall"), std::string::npos) << out.str();
  EXPECT_EQ(out.str().find("failed  official"), std::string::npos) << out.str();
  EXPECT_FALSE(result.json["methods"]["full"]["benchmarks"]["RULER"].contains("official"));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace loom::metrics::report
