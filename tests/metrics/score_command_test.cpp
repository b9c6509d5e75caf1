// End-to-end `loom_mpi score`: official BABILong result CSVs in data/babilong_evals (every 5th of the 55, to keep
// process start-ups within the test budget; metrics_rescoring_test covers all 55 through the same library call),
// scored by the real executable (--json), give the accuracy of the official compare_answers (tests/fixtures/metrics/babilong_files.jsonl,
// computed by tools/fixtures/make_scorer_fixtures.py); bad input exits with status 2 and names the problem.
#include "metrics/fixture_reader.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <cstdio>
#include <string>
#include <sys/wait.h>

namespace {

struct CommandResult {
  int status = -1;
  std::string output;
};

CommandResult run(const std::string& args) {
  const std::string cmd = std::string(LOOM_MPI_EXE) + " " + args + " 2>&1";
  CommandResult r;
  FILE* pipe = popen(cmd.c_str(), "r");
  if (!pipe) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), pipe)) > 0) r.output.append(buf, n);
  int raw = pclose(pipe);
  r.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  return r;
}

std::string quoted(const std::string& s) { return "'" + s + "'"; }

TEST(ScoreCommand, OfficialBabilongPredictionsFileByFile) {
  const auto cases = loom::metrics::testing::read_jsonl(loom::metrics::testing::fixture_dir() + "/babilong_files.jsonl");
  ASSERT_GE(cases.size(), 55u);
  for (size_t i = 0; i < cases.size(); i += 5) {
    const auto& c = cases[i];
    const std::string path = std::string(LOOM_SOURCE_DIR) + "/" + c.at("file").get<std::string>();
    auto r = run("score --benchmark BABILong --predictions " + quoted(path) + " --json");
    ASSERT_EQ(r.status, 0) << r.output;
    // the JSON object is the last line that starts with '{' (stderr is merged into the output)
    size_t start = r.output.rfind("\n{");
    start = start == std::string::npos ? r.output.find('{') : start + 1;
    ASSERT_NE(start, std::string::npos) << r.output;
    auto out = nlohmann::json::parse(r.output.substr(start));
    EXPECT_EQ(out.at("task"), c.at("task")) << path;
    EXPECT_EQ(out.at("samples"), c.at("samples")) << path;
    EXPECT_NEAR(out.at("score").get<double>(), c.at("accuracy").get<double>(), 1e-9) << path;
  }
}

TEST(ScoreCommand, TextOutputAndErrors) {
  const auto cases = loom::metrics::testing::read_jsonl(loom::metrics::testing::fixture_dir() + "/babilong_files.jsonl");
  const std::string path = std::string(LOOM_SOURCE_DIR) + "/" + cases.at(0).at("file").get<std::string>();
  auto ok = run("score --benchmark babilong --predictions " + quoted(path));
  EXPECT_EQ(ok.status, 0) << ok.output;
  EXPECT_NE(ok.output.find("BABILong qa"), std::string::npos) << ok.output;
  auto bad = run("score --benchmark NoSuch --predictions " + quoted(path));
  EXPECT_EQ(bad.status, 2) << bad.output;
  EXPECT_NE(bad.output.find("benchmark"), std::string::npos) << bad.output;
  auto bad_task = run("score --benchmark BABILong --task qa99 --predictions " + quoted(path));
  EXPECT_EQ(bad_task.status, 2) << bad_task.output;
}

// CLongEval's shipped result files (excerpts): the executable prints the figure eval.py writes, the task taken from
// the <dataset>/<size>.jsonl path (tools/fixtures/parity/clongeval_results.py).
TEST(ScoreCommand, ClongevalResultFiles) {
  const std::string dir = loom::metrics::testing::fixture_dir() + "/rescoring";
  const auto cases = loom::metrics::testing::read_jsonl(dir + "/clongeval/expected.jsonl");
  ASSERT_FALSE(cases.empty());
  for (size_t i = 0; i < cases.size(); i += 4) {
    const auto& c = cases[i];
    auto r = run("score --benchmark CLongEval --predictions " + quoted(dir + "/" + c.at("file").get<std::string>()) +
                 " --json");
    ASSERT_EQ(r.status, 0) << r.output;
    size_t start = r.output.rfind("\n{");
    start = start == std::string::npos ? r.output.find('{') : start + 1;
    ASSERT_NE(start, std::string::npos) << r.output;
    auto out = nlohmann::json::parse(r.output.substr(start));
    EXPECT_EQ(out.at("task"), c.at("task"));
    EXPECT_NEAR(out.at("score").get<double>(), c.at("score").get<double>(), 1e-9) << c.dump();
  }
  auto bad = run("score --benchmark CLongEval --task LStQA_X --predictions " +
                 quoted(dir + "/" + cases.at(0).at("file").get<std::string>()));
  EXPECT_EQ(bad.status, 2) << bad.output;
  EXPECT_NE(bad.output.find("LStQA_{S,M,L}"), std::string::npos) << bad.output;
}

// NIAH: a folder of gkamradt's result files is accepted as --predictions (the viz notebook's pivot mean).
TEST(ScoreCommand, NiahResultFolder) {
  const std::string dir = loom::metrics::testing::fixture_dir() + "/rescoring";
  const auto cases = loom::metrics::testing::read_jsonl(dir + "/niah/expected.jsonl");
  auto r = run("score --benchmark NIAH --predictions " + quoted(dir + "/" + cases.at(0).at("file").get<std::string>()) +
               " --json");
  ASSERT_EQ(r.status, 0) << r.output;
  size_t start = r.output.rfind("\n{");
  start = start == std::string::npos ? r.output.find('{') : start + 1;
  auto out = nlohmann::json::parse(r.output.substr(start));
  EXPECT_NEAR(out.at("score").get<double>(), cases.at(0).at("score").get<double>(), 1e-9);
  EXPECT_EQ(out.at("samples"), cases.at(0).at("samples"));
  auto missing = run("score --benchmark NIAH --predictions " + quoted(dir + "/niah/no_such_folder"));
  EXPECT_EQ(missing.status, 2) << missing.output;
}

}  // namespace
