// The judge pass and the metrics pass's judged metrics against loopback cpp-httplib judges of this binary: verdicts
// stored in the results file (/judge, with the judge model and raw answers), reused by a rerun and by the report (the
// server counts requests), a pass killed mid-way keeps its verdicts, a failing or dead judge leaves the metric not
// computed with the reason (asked again on rerun), and no judge means "not computed", never a number.
#include "metrics/judge/judge_pass.h"
#include "metrics/report/metrics_pass.h"
#include "results/result_store.h"
#include "results/verdicts.h"
#include "support/loopback_server.h"

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <thread>

namespace fs = std::filesystem;
using nlohmann::json;

namespace loom::metrics::judge {
namespace {

// POST /v1/chat/completions answered by `answer(request body)`; counts requests.
class JudgeServer {
 public:
  using Answer = std::function<void(const json& body, httplib::Response& res)>;
  explicit JudgeServer(Answer answer)
      : answer_(std::move(answer)),
        server_("/v1/chat/completions", [this](const httplib::Request& req, httplib::Response& res) {
          ++hits_;
          answer_(json::parse(req.body), res);
        }) {}
  std::string base_url() const { return server_.base_url(); }
  int hits() const { return hits_; }

 private:
  Answer answer_;
  std::atomic<int> hits_{0};
  test_support::LoopbackServer server_;
};

void chat(httplib::Response& res, const std::string& content) { test_support::set_chat_completion(res, content); }

// Deterministic: NIAH (a system message) gets [[8]]; LongWriter gets all 4s except Relevance 5 (S_q 79.1667).
void good_judge(const json& body, httplib::Response& res) {
  if (body["messages"][0]["role"] == "system") return chat(res, "Close to the reference. Rating: [[8]]");
  chat(res, "```json\n{\"Analysis\": \"fine\", \"Relevance\": 5, \"Accuracy\": 4, \"Coherence\": 4, \"Clarity\": 4, "
            "\"Breadth and Depth\": 4, \"Reading Experience\": 4}\n```");
}

class JudgePass : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("judge_pass_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    path_ = dir_ / "run.h5";
    auto store = results::ResultStore::open(path_, results::JobAttributes{});
    for (int i = 0; i < 3; ++i) {  // LongWriter: 5 words asked, the prediction has 5 → S_l 100
      results::ResultRow row;
      row.sample_key = "LongWriter/longbench_write/0/" + std::to_string(i) + "/full";
      row.benchmark = "LongWriter";
      row.task = "longbench_write";
      row.capability = "Generation";
      row.metric = "longwriter_length";
      row.sample_index = i;
      row.prediction = "one two three four five";
      row.references_json = "[]";
      row.metadata_json = json{{"length", 5}, {"prompt", "Write five words, number " + std::to_string(i)}}.dump();
      row.method = "full";
      store->append(row);
    }
    for (int i = 0; i < 2; ++i) {
      results::ResultRow row;
      row.sample_key = "NIAH/niah/1000/" + std::to_string(i) + "/full";
      row.benchmark = "NIAH";
      row.task = "niah";
      row.capability = "Retrieval";
      row.metric = "niah_word_recall";
      row.sample_index = i;
      row.target_length = 1000;
      row.prediction = "eat a sandwich in Dolores Park";
      row.references_json = json::array({"eat a sandwich and sit in Dolores Park"}).dump();
      row.metadata_json = json{{"needle", "\nEat a sandwich and sit in Dolores Park.\n"},
                               {"retrieval_question", "What is the best thing to do?"},
                               {"depth_percent", 50 * i}}
                              .dump();
      row.method = "full";
      store->append(row);
    }
    store->close();
  }
  void TearDown() override { fs::remove_all(dir_); }

  JudgeConfig config(const std::string& url) const {
    JudgeConfig c;
    c.base_url = url;
    c.model = "judge-model";
    c.max_concurrency = 2;
    c.timeout_s = 5;
    c.max_retries = 1;
    return c;
  }
  report::MetricsPassResult report(bool configured, const std::string& model = "judge-model") {
    report::MetricsPassOptions options;
    options.write_html = false;
    options.judge_configured = configured;
    options.judge_model = model;
    std::ostringstream out;
    auto result = report::run_metrics_pass(path_, out, options);
    printed_ = out.str();
    return result;
  }
  static const json& task(const report::MetricsPassResult& r, const std::string& benchmark, const std::string& t) {
    return r.json["methods"]["full"]["benchmarks"][benchmark]["tasks"][t];
  }

  fs::path dir_, path_;
  std::string printed_;
};

TEST_F(JudgePass, VerdictsAreStoredScoredAndReused) {
  JudgeServer server(good_judge);
  std::ostringstream out;
  const JudgePassResult first = run_judge_pass(path_, config(server.base_url()), out);
  EXPECT_EQ(first.applicable, 5);
  EXPECT_EQ(first.asked, 5);
  EXPECT_EQ(first.ok, 5);
  EXPECT_EQ(server.hits(), 5);
  EXPECT_TRUE(fs::exists(results::verdict_journal_path_for(path_)));

  const auto r = report(true);
  const json& longwriter = task(r, "LongWriter", "longbench_write");
  const double s_q = ((5 - 1) * 25 + 5 * (4 - 1) * 25) / 6.0;
  EXPECT_NEAR(longwriter["judged"]["longwriter_quality"]["score"].get<double>(), s_q, 1e-9);
  EXPECT_NEAR(longwriter["metrics"]["longwriter_quality"].get<double>(), s_q, 1e-9);
  EXPECT_NEAR(longwriter["score"].get<double>(), (100 + s_q) / 2, 1e-9);  // S = (S_l + S_q) / 2
  const json& niah = task(r, "NIAH", "niah");
  EXPECT_NEAR(niah["judged"]["niah_judge"]["score"].get<double>(), 80, 1e-9);
  EXPECT_FALSE(niah["metrics"].contains("niah_judge"));  // beside the word-recall score, not mixed in
  EXPECT_NE(printed_.find("niah_judge"), std::string::npos);

  // Folded into /judge: the journal is gone, the file holds every verdict with its model and raw answer.
  EXPECT_FALSE(fs::exists(results::verdict_journal_path_for(path_)));
  const auto verdicts = results::read_verdicts(path_);
  ASSERT_EQ(verdicts.size(), 5u);
  for (const auto& v : verdicts) {
    EXPECT_EQ(v.judge_model, "judge-model");
    EXPECT_EQ(v.status, "ok");
    EXPECT_NE(v.response.find(v.metric == "niah_judge" ? "[[8]]" : "Reading Experience"), std::string::npos);
  }

  // A rerun and a report ask nothing again; a resumed run's checkpoint keeps /judge.
  const JudgePassResult second = run_judge_pass(path_, config(server.base_url()), out);
  EXPECT_EQ(second.reused, 5);
  EXPECT_EQ(second.asked, 0);
  EXPECT_EQ(server.hits(), 5);
  results::ResultStore::open(path_, results::JobAttributes{})->close();
  EXPECT_EQ(results::read_verdicts(path_).size(), 5u);
  EXPECT_NEAR(task(report(false, ""), "NIAH", "niah")["judged"]["niah_judge"]["score"].get<double>(), 80, 1e-9);
}

TEST_F(JudgePass, AKilledPassKeepsItsVerdicts) {
  std::atomic<int> answered{0};
  JudgeServer server([&](const json& body, httplib::Response& res) {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    good_judge(body, res);
    ++answered;
  });
  JudgeConfig c = config(server.base_url());
  c.max_concurrency = 1;
  const pid_t child = fork();
  if (child == 0) {
    std::ostringstream sink;
    run_judge_pass(path_, c, sink);
    _exit(0);
  }
  const fs::path journal = results::verdict_journal_path_for(path_);
  const auto lines = [&] {
    std::ifstream in(journal);
    int n = 0;
    for (std::string line; std::getline(in, line);) ++n;
    return n;
  };
  for (int i = 0; i < 200 && lines() < 2; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  kill(child, SIGKILL);
  int status = 0;
  waitpid(child, &status, 0);
  const int kept = lines();
  ASSERT_GE(kept, 2);
  ASSERT_LT(kept, 5);
  const int hits_before = server.hits();
  std::ostringstream out;
  const JudgePassResult rerun = run_judge_pass(path_, c, out);
  EXPECT_EQ(rerun.reused, kept);
  EXPECT_EQ(rerun.asked, 5 - kept);
  EXPECT_EQ(server.hits(), hits_before + 5 - kept);
  EXPECT_EQ(results::latest_verdicts(results::read_verdicts(path_)).size(), 5u);
}

TEST_F(JudgePass, AFailingJudgeLeavesTheMetricNotComputedWithItsReasonUntilARerun) {
  {
    JudgeServer broken([](const json&, httplib::Response& res) {
      res.status = 500;
      res.set_content("{\"error\": {\"message\": \"overloaded\"}}", "application/json");
    });
    std::ostringstream out;
    const JudgePassResult result = run_judge_pass(path_, config(broken.base_url()), out);
    EXPECT_EQ(result.failed, 5);
    EXPECT_EQ(broken.hits(), 10);  // one retry each (max_retries 1)
  }
  const auto r = report(true);
  const json& niah = task(r, "NIAH", "niah")["judged"]["niah_judge"];
  EXPECT_TRUE(niah["score"].is_null());
  EXPECT_EQ(niah["not_computed"], 2);
  EXPECT_NE(niah["reasons"].dump().find("HTTP 500"), std::string::npos);
  // Without S_q the LongWriter task is S_l alone and says why.
  EXPECT_NEAR(task(r, "LongWriter", "longbench_write")["score"].get<double>(), 100, 1e-9);
  EXPECT_NE(printed_.find("not computed for 3 rows"), std::string::npos);

  JudgeServer server(good_judge);
  std::ostringstream out;
  const JudgePassResult rerun = run_judge_pass(path_, config(server.base_url()), out);
  EXPECT_EQ(rerun.asked, 5);
  EXPECT_EQ(rerun.ok, 5);
}

TEST_F(JudgePass, ATimeoutOrNobodyListeningFailsInBoundedTime) {
  JudgeServer slow([](const json& body, httplib::Response& res) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    good_judge(body, res);
  });
  JudgeConfig c = config(slow.base_url());
  c.timeout_s = 0.3;
  c.max_retries = 0;
  c.max_concurrency = 8;
  std::ostringstream out;
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(run_judge_pass(path_, c, out).failed, 5);
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), 5.0);
  const auto verdicts = results::read_verdicts(path_);
  ASSERT_EQ(verdicts.size(), 5u);
  EXPECT_NE(verdicts[0].error.find("no answer within"), std::string::npos);

  c.base_url = "http://127.0.0.1:1/v1";
  const JudgePassResult dead = run_judge_pass(path_, c, out);
  EXPECT_EQ(dead.failed, 5);
}

TEST_F(JudgePass, WithoutAJudgeJudgedMetricsAreNotComputed) {
  const auto r = report(false, "");
  const json& judged = task(r, "LongWriter", "longbench_write")["judged"]["longwriter_quality"];
  EXPECT_TRUE(judged["score"].is_null());
  EXPECT_EQ(judged["computed"], 0);
  EXPECT_NE(judged["reasons"].dump().find("no judge configured"), std::string::npos);
  EXPECT_FALSE(task(r, "LongWriter", "longbench_write")["metrics"].contains("longwriter_quality"));
}

}  // namespace
}  // namespace loom::metrics::judge
