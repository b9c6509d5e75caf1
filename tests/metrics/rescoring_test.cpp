// `loom_mpi score` back end: the official BABILong predictions in data/babilong_evals, file by file, give the
// accuracy of the official compare_answers (expected values: tools/fixtures/make_scorer_fixtures.py, pandas +
// a re-statement of babilong/metrics.py); the other formats against small fixture prediction files.
#include "metrics/fixture_reader.h"
#include "metrics/rescoring/csv_table.h"
#include "metrics/rescoring/prediction_files.h"

#include "common/error.h"

#include <gtest/gtest.h>

#include <filesystem>

namespace loom::metrics {
namespace {

TEST(Rescoring, OfficialBabilongPredictionsFileByFile) {
  const auto cases = testing::read_jsonl(testing::fixture_dir() + "/babilong_files.jsonl");
  ASSERT_GE(cases.size(), 55u);
  for (const auto& c : cases) {
    const std::string path = std::string(LOOM_SOURCE_DIR) + "/" + c.at("file").get<std::string>();
    ASSERT_TRUE(std::filesystem::exists(path)) << path;
    auto r = rescore_predictions("BABILong", "", path);
    EXPECT_EQ(r.task, c.at("task").get<std::string>()) << path;
    EXPECT_EQ(r.samples, c.at("samples").get<size_t>()) << path;
    EXPECT_NEAR(r.score, c.at("accuracy").get<double>(), 1e-9) << path;
  }
}

TEST(Rescoring, OtherFormatsMatchTheOfficialAggregation) {
  const std::string dir = testing::fixture_dir() + "/rescoring";
  for (const auto& c : testing::read_jsonl(dir + "/expected.jsonl")) {
    auto r = rescore_predictions(c.at("benchmark"), c.value("task", std::string()), dir + "/" + c.at("file").get<std::string>());
    EXPECT_NEAR(r.score, c.at("score").get<double>(), 1e-9) << c.dump();
    if (c.contains("breakdown"))
      for (const auto& [k, v] : c.at("breakdown").items()) {
        bool found = false;
        for (const auto& [name, value] : r.breakdown)
          if (name == k) {
            found = true;
            EXPECT_NEAR(value, v.get<double>(), 1e-9) << c.dump() << " " << k;
          }
        EXPECT_TRUE(found) << k;
      }
  }
}

TEST(Rescoring, CsvQuotingAndErrors) {
  auto t = parse_csv("a,b\n\"x, \"\"y\"\"\",\"multi\nline\"\n", "mem.csv");
  ASSERT_EQ(t.rows.size(), 1u);
  EXPECT_EQ(t.rows[0][0], "x, \"y\"");
  EXPECT_EQ(t.rows[0][1], "multi\nline");
  EXPECT_THROW(parse_csv("a,b\n\"open,1\n", "mem.csv"), InputError);
  EXPECT_THROW(parse_csv("a,b\n1,2,3\n", "mem.csv"), InputError);
  EXPECT_THROW(rescore_predictions("NoSuchBench", "", "x"), InputError);
}

}  // namespace
}  // namespace loom::metrics
