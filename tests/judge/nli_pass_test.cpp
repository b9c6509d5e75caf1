// The NLI pass of L-CiteEval's citation metrics against a loopback cpp-httplib TRUE-style completions server of this
// binary (answers "1" iff every fact token F<n> of the hypothesis is in the premise, the fake NLI model of
// tools/fixtures/parity/lciteeval_citation_eval.py): rows built from tests/fixtures/judge/lciteeval_citation.jsonl
// get upstream's recall / precision / F1 (task means within 0.01 points), the server sees exactly upstream's checks
// as TRUE's text (each once), a rerun and a report ask nothing, a failing or dead server leaves the metrics not
// computed with the reason (asked again on rerun), and no endpoint means "not computed", never a number.
#include "metrics/judge/nli_pass.h"
#include "metrics/judged/lciteeval_citation.h"
#include "metrics/report/metrics_pass.h"
#include "results/result_store.h"
#include "results/verdicts.h"
#include "support/loopback_server.h"

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

namespace fs = std::filesystem;
using nlohmann::json;

namespace loom::metrics::judge {
namespace {

// POST /v1/completions answered by `answer(request body)`; counts requests and keeps the prompts.
class NliServer {
 public:
  using Answer = std::function<void(const json& body, httplib::Response& res)>;
  explicit NliServer(Answer answer)
      : answer_(std::move(answer)),
        server_("/v1/completions", [this](const httplib::Request& req, httplib::Response& res) {
          ++hits_;
          const json body = json::parse(req.body);
          {
            std::lock_guard<std::mutex> lock(mutex_);
            prompts_.push_back(body.value("prompt", std::string()));
          }
          answer_(body, res);
        }) {}
  std::string base_url() const { return server_.base_url(); }
  int hits() const { return hits_; }
  std::vector<std::string> prompts() {
    std::lock_guard<std::mutex> lock(mutex_);
    return prompts_;
  }

 private:
  Answer answer_;
  std::atomic<int> hits_{0};
  std::mutex mutex_;
  std::vector<std::string> prompts_;
  test_support::LoopbackServer server_;
};

// The fixture's fake NLI model behind TRUE's text: "1" iff the hypothesis names a fact F<n> and each is in the premise.
void true_nli(const json& body, httplib::Response& res) {
  EXPECT_EQ(body["model"], "true-nli");
  EXPECT_EQ(body["max_tokens"], 10);
  EXPECT_EQ(body["temperature"], 0);
  const std::string prompt = body["prompt"];
  const size_t split = prompt.rfind(" hypothesis: ");
  EXPECT_EQ(prompt.rfind("premise: ", 0), 0u);
  const std::string premise = prompt.substr(9, split - 9), hypothesis = prompt.substr(split + 13);
  const std::regex fact("F[0-9]+");
  bool any = false, all = true;
  for (std::sregex_iterator it(hypothesis.begin(), hypothesis.end(), fact), end; it != end; ++it) {
    any = true;
    all = all && std::regex_search(premise, std::regex(it->str() + "(?![0-9])"));
  }
  test_support::set_text_completion(res, any && all ? "1" : "0");
}

class NliPass : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("nli_pass_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    path_ = dir_ / "run.h5";
    std::ifstream in(std::string(LOOM_SOURCE_DIR) + "/tests/fixtures/judge/lciteeval_citation.jsonl");
    std::string line;
    std::getline(in, line);  // source and commit
    auto store = results::ResultStore::open(path_, results::JobAttributes{});
    int i = 0;
    double sums[3] = {0, 0, 0};
    while (std::getline(in, line)) {
      const json c = json::parse(line);
      if (c["task"] != "hotpotqa") continue;
      results::ResultRow row;
      row.sample_key = "L_CiteEval/hotpotqa/0/" + std::to_string(i) + "/full";
      row.benchmark = "L_CiteEval";
      row.task = "hotpotqa";
      row.capability = "Faithfulness";
      row.metric = "lciteeval_qa_f1";
      row.sample_index = i++;
      row.prediction = c["generation"];
      row.references_json = json::array({"F1"}).dump();
      row.metadata_json = json{{"docs", c["docs"]}}.dump();
      row.method = "full";
      store->append(row);
      for (const auto& call : c["nli_calls"]) upstream_inputs_.insert(call["input"].get<std::string>());
      if (c["expected"].is_null()) continue;
      ++scored_;
      if (c["nli_calls"].empty()) ++no_check_rows_;  // scored whatever the endpoint does
      sums[0] += c["expected"]["recall"].get<double>();
      sums[1] += c["expected"]["precision"].get<double>();
      sums[2] += c["expected"]["f1"].get<double>();
    }
    rows_ = i;
    for (int k = 0; k < 3; ++k) expected_[k] = 100 * sums[k] / scored_;
    results::ResultRow niah;  // no NLI: not asked about
    niah.sample_key = "L_CiteEval/niah/0/0/full";
    niah.benchmark = "L_CiteEval";
    niah.task = "niah";
    niah.metric = "lciteeval_niah";
    niah.prediction = "F1 holds [1].";
    niah.references_json = "[\"F1\"]";
    niah.metadata_json = json{{"docs", {"F1 here."}}}.dump();
    niah.method = "full";
    store->append(niah);
    store->close();
  }
  void TearDown() override { fs::remove_all(dir_); }

  static JudgeConfig config(const std::string& url) {
    JudgeConfig c;
    c.nli.base_url = url;
    c.nli.model = "true-nli";
    c.max_concurrency = 3;
    c.timeout_s = 5;
    c.max_retries = 1;
    return c;
  }
  json report(bool configured, const std::string& model = "true-nli") {
    report::MetricsPassOptions options;
    options.write_html = false;
    options.nli_configured = configured;
    options.nli_model = model;
    std::ostringstream out;
    auto result = report::run_metrics_pass(path_, out, options);
    printed_ = out.str();
    return result.json["methods"]["full"]["benchmarks"]["L_CiteEval"]["tasks"]["hotpotqa"]["judged"];
  }

  fs::path dir_, path_;
  std::set<std::string> upstream_inputs_;
  int rows_ = 0, scored_ = 0, no_check_rows_ = 0;
  double expected_[3] = {0, 0, 0};
  std::string printed_;
};

TEST_F(NliPass, NoEndpointMeansNotComputed) {
  const json judged = report(false, "");
  for (const char* name : {judged::kCiteRecall, judged::kCitePrecision, judged::kCiteF1}) {
    EXPECT_TRUE(judged[name]["score"].is_null()) << name;
    EXPECT_NE(judged[name]["reasons"].dump().find("no NLI model or endpoint configured"), std::string::npos);
  }
}

TEST_F(NliPass, AnswersAreStoredScoredAsUpstreamAndReused) {
  NliServer server(true_nli);
  std::ostringstream out;
  const NliPassResult first = run_nli_pass(path_, config(server.base_url()), out);
  EXPECT_EQ(first.rows, rows_);
  EXPECT_EQ(first.asked, static_cast<int64_t>(upstream_inputs_.size()));
  EXPECT_EQ(first.ok, first.asked);
  EXPECT_EQ(first.failed, 0);
  EXPECT_GE(first.rounds, 3);  // joint checks, then each cited passage alone, then the others without it
  const std::vector<std::string> prompts = server.prompts();
  EXPECT_EQ(std::set<std::string>(prompts.begin(), prompts.end()), upstream_inputs_);
  EXPECT_EQ(prompts.size(), upstream_inputs_.size());  // none asked twice

  const json judged = report(true);
  EXPECT_NEAR(judged[judged::kCiteRecall]["score"].get<double>(), expected_[0], 0.01);
  EXPECT_NEAR(judged[judged::kCitePrecision]["score"].get<double>(), expected_[1], 0.01);
  EXPECT_NEAR(judged[judged::kCiteF1]["score"].get<double>(), expected_[2], 0.01);
  EXPECT_EQ(judged[judged::kCiteRecall]["computed"], scored_);
  EXPECT_NE(judged[judged::kCiteRecall]["reasons"].dump().find("no sentence"), std::string::npos);
  EXPECT_NE(printed_.find(judged::kCitePrecision), std::string::npos);

  // Folded into /judge/lciteeval_nli; a rerun and a report without the endpoint ask nothing.
  EXPECT_FALSE(fs::exists(results::verdict_journal_path_for(path_)));
  EXPECT_EQ(results::read_verdicts(path_).size(), upstream_inputs_.size());
  const NliPassResult second = run_nli_pass(path_, config(server.base_url()), out);
  EXPECT_EQ(second.asked, 0);
  EXPECT_EQ(second.reused, static_cast<int64_t>(upstream_inputs_.size()));
  EXPECT_EQ(server.hits(), static_cast<int>(upstream_inputs_.size()));
  EXPECT_NEAR(report(false, "")[judged::kCiteF1]["score"].get<double>(), expected_[2], 0.01);
  // Another model's answers do not count for it.
  const json other = report(false, "other-nli");
  EXPECT_TRUE(other[judged::kCiteF1]["score"].is_null());
  EXPECT_NE(other[judged::kCiteF1]["reasons"].dump().find("no NLI answers of model other-nli"), std::string::npos);
}

TEST_F(NliPass, AFailingEndpointLeavesTheMetricsNotComputedWithTheReasonUntilARerun) {
  {
    NliServer broken([](const json&, httplib::Response& res) {
      res.status = 500;
      res.set_content("{\"error\": {\"message\": \"overloaded\"}}", "application/json");
    });
    std::ostringstream out;
    const NliPassResult result = run_nli_pass(path_, config(broken.base_url()), out);
    EXPECT_EQ(result.ok, 0);
    EXPECT_GT(result.failed, 0);
    EXPECT_EQ(result.rounds, 1);  // nothing answered, so no later checks
    EXPECT_EQ(broken.hits(), 2 * result.failed);  // one retry each
  }
  // Rows that need a check are not computed, with the reason; those that need none (no or out-of-range citations)
  // are, as upstream scores them without the model.
  const json judged = report(true);
  EXPECT_EQ(judged[judged::kCiteRecall]["computed"], no_check_rows_);
  EXPECT_EQ(judged[judged::kCiteRecall]["not_computed"], rows_ - no_check_rows_);
  EXPECT_NE(judged[judged::kCiteRecall]["reasons"].dump().find("HTTP 500"), std::string::npos);

  NliServer server(true_nli);
  std::ostringstream out;
  const NliPassResult rerun = run_nli_pass(path_, config(server.base_url()), out);
  EXPECT_EQ(rerun.asked, static_cast<int64_t>(upstream_inputs_.size()));
  EXPECT_EQ(rerun.failed, 0);
  EXPECT_NEAR(report(true)[judged::kCiteRecall]["score"].get<double>(), expected_[0], 0.01);
}

TEST_F(NliPass, AChatAnswerIsNotACompletion) {
  NliServer chat([](const json&, httplib::Response& res) {
    res.set_content(json{{"choices", {{{"index", 0}, {"message", {{"role", "assistant"}, {"content", "1"}}}}}}}.dump(),
                    "application/json");
  });
  std::ostringstream out;
  const NliPassResult result = run_nli_pass(path_, config(chat.base_url()), out);
  EXPECT_EQ(result.ok, 0);
  EXPECT_EQ(result.failed, chat.hits());  // not retried: the endpoint answered
  EXPECT_NE(report(true)[judged::kCiteRecall]["reasons"].dump().find("something other than an OpenAI completion"),
            std::string::npos);
}

TEST_F(NliPass, ATimeoutOrNobodyListeningFailsInBoundedTime) {
  NliServer slow([](const json& body, httplib::Response& res) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    true_nli(body, res);
  });
  JudgeConfig c = config(slow.base_url());
  c.timeout_s = 0.3;
  c.max_retries = 0;
  c.max_concurrency = 64;
  std::ostringstream out;
  const auto t0 = std::chrono::steady_clock::now();
  const NliPassResult result = run_nli_pass(path_, c, out);
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 5.0);
  EXPECT_EQ(result.ok, 0);
  EXPECT_GT(result.failed, 0);
  const auto verdicts = results::read_verdicts(path_);
  ASSERT_FALSE(verdicts.empty());
  EXPECT_NE(verdicts[0].error.find("no answer within"), std::string::npos) << verdicts[0].error;
  EXPECT_EQ(report(true)[judged::kCiteF1]["computed"], no_check_rows_);

  c.nli.base_url = "http://127.0.0.1:1/v1";
  const auto t1 = std::chrono::steady_clock::now();
  const NliPassResult dead = run_nli_pass(path_, c, out);
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count(), 5.0);
  EXPECT_EQ(dead.failed, result.failed);
  EXPECT_NE(report(true)[judged::kCiteF1]["reasons"].dump().find("127.0.0.1:1"), std::string::npos);
}

}  // namespace
}  // namespace loom::metrics::judge
