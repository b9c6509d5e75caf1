// LongBench-Cite (LongCite benchmark, docs/benchmarks.md; judged metrics longcite_citation, longcite_correctness):
// * the sentence split (nltk Punkt + 。；！？), the one-shot prompt and the statement/citation post-processing against
//   tests/fixtures/longcite/{split,postprocess}.jsonl, written by THUDM/LongCite's own functions run unchanged
//   (tools/fixtures/parity/longcite_eval.py);
// * every judge request (prompt byte for byte, temperature, max_tokens, stop, retries at temperature 1) and the
//   citation recall / precision / F1 and correctness scores against tests/fixtures/longcite/judge.jsonl (upstream's
//   auto_scorer.py and eval_correct.py with a fake judge), to 0.01 points;
// * the judge pass over LongCite rows against a loopback judge: one request per statement and per citation, the
//   scores in the report, a rerun asks nothing, no judge → "not computed".
#include "benchmarks/configured_benchmark.h"
#include "metrics/judge/judge_pass.h"
#include "metrics/judged/judged_metrics.h"
#include "metrics/judged/longcite_sentences.h"
#include "metrics/judged/longcite_statements.h"
#include "metrics/report/metrics_pass.h"
#include "metrics/text/unicode_text.h"
#include "results/result_store.h"
#include "results/verdicts.h"
#include "support/loopback_server.h"
#include "text/punkt.h"

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>

namespace fs = std::filesystem;
using nlohmann::json;

namespace loom::metrics {
namespace {

std::vector<json> read_cases(const std::string& name, json* header = nullptr) {
  std::ifstream in(std::string(LOOM_SOURCE_DIR) + "/tests/fixtures/longcite/" + name);
  EXPECT_TRUE(in) << name;
  std::vector<json> cases;
  std::string line;
  bool first = true;
  while (std::getline(in, line)) {
    if (first) {
      if (header) *header = json::parse(line);
      first = false;
      continue;
    }
    cases.push_back(json::parse(line));
  }
  return cases;
}

std::vector<std::string> strings(const json& list) {
  std::vector<std::string> out;
  for (const auto& x : list) out.push_back(x.get<std::string>());
  return out;
}

TEST(LongCiteSplit, PunktAndTheSentenceSplitAreUpstreams) {
  json header;
  const std::vector<json> cases = read_cases("split.jsonl", &header);
  EXPECT_EQ(header["source"]["commit"], "d7d772e39fb15357749f54a2fe1e2dce77df5255");
  EXPECT_EQ(header["source"]["nltk"], "3.8.1");
  ASSERT_GE(cases.size(), 300u);
  for (const json& c : cases) {
    const std::string text = c["text"];
    SCOPED_TRACE(c["text"].dump());
    EXPECT_EQ(loom::text::punkt_sentences(text, loom::text::kPunktNltk381), strings(c["punkt"]));
    const std::vector<judged::LongCiteSentence> ours = judged::longcite_split_sentences(text);
    ASSERT_EQ(ours.size(), c["sentences"].size());
    for (size_t i = 0; i < ours.size(); ++i) {
      EXPECT_EQ(ours[i].content, c["sentences"][i].get<std::string>());
      EXPECT_EQ(text::to_u32(text.substr(0, ours[i].start)).size(), c["starts"][i].get<size_t>());  // code points
      EXPECT_EQ(text.substr(ours[i].start, ours[i].end - ours[i].start), ours[i].content);
    }
  }
}

TEST(LongCitePostprocess, ThePromptAndTheStatementsAreUpstreams) {
  const std::vector<json> cases = read_cases("postprocess.jsonl");
  ASSERT_EQ(cases.size(), 8u);
  for (const json& c : cases) {
    SCOPED_TRACE(c["output"].dump());
    EXPECT_EQ(benchmarks::longcite_prompt(c["context"], c["query"]), c["prompt"].get<std::string>());
    EXPECT_EQ(judged::longcite_fix_output(c["output"]), c["prediction"].get<std::string>());
    const std::vector<judged::LongCiteStatement> ours = judged::longcite_statements(c["output"], c["context"]);
    ASSERT_EQ(ours.size(), c["statements"].size());
    for (size_t i = 0; i < ours.size(); ++i) {
      const json& s = c["statements"][i];
      EXPECT_EQ(ours[i].statement, s["statement"].get<std::string>());
      ASSERT_EQ(ours[i].citation.size(), s["citation"].size());
      for (size_t k = 0; k < ours[i].citation.size(); ++k) {
        EXPECT_EQ(ours[i].citation[k].st_sent, s["citation"][k]["st_sent"].get<int64_t>());
        EXPECT_EQ(ours[i].citation[k].ed_sent, s["citation"][k]["ed_sent"].get<int64_t>());
        EXPECT_EQ(ours[i].citation[k].cite, s["citation"][k]["cite"].get<std::string>());
      }
    }
  }
}

// Plays upstream's recorded requests against our parts: each part takes answers in order until upstream's parser
// accepts one or its tries are used up (checking every request as it goes); then the row's scores. Upstream stops at
// the first part it gives up on (it raises): its later parts, which our judge pass asks too, have nothing to play.
struct Played {
  bool ok = false;
  std::vector<double> scores;  // the metric's outputs, 0-1
};

Played play(const judged::JudgedMetric& metric, const std::vector<judged::JudgePart>& parts, const json& requests) {
  size_t next = 0;
  bool gave_up = false;
  std::vector<std::string> answers(parts.size());
  for (size_t k = 0; k < parts.size(); ++k) {
    const judged::JudgePart& part = parts[k];
    if (!part.asked) continue;
    if (gave_up) break;
    for (int tries = 0;; ++tries) {
      EXPECT_LT(next, requests.size()) << "we ask more than upstream did";
      if (next >= requests.size()) return {};
      const json& r = requests[next++];
      const json& messages = r["messages"];
      EXPECT_EQ(messages.size(), part.request.messages.size());
      for (size_t m = 0; m < messages.size() && m < part.request.messages.size(); ++m) {
        EXPECT_EQ(part.request.messages[m].role, messages[m]["role"].get<std::string>());
        EXPECT_EQ(part.request.messages[m].content, messages[m]["content"].get<std::string>());
      }
      const double temperature = tries == 0 ? *part.request.temperature : part.retry_temperature.value_or(*part.request.temperature);
      EXPECT_EQ(temperature, r["temperature"].get<double>());
      EXPECT_EQ(part.request.max_tokens.value_or(-1), r["max_new_tokens"].get<int>());
      if (r["stop"].is_null()) EXPECT_TRUE(part.request.stop.empty());
      else if (r["stop"].is_string()) EXPECT_EQ(part.request.stop, std::vector<std::string>{r["stop"].get<std::string>()});
      else EXPECT_EQ(part.request.stop, strings(r["stop"]));
      answers[k] = r["answer"];
      const judged::JudgeParse parse = metric.parse_part(part.kind, answers[k]);
      if (parse.ok) break;
      if (!parse.retry || tries + 1 >= part.max_tries) {
        gave_up = !part.exhausted_score.has_value() || !parse.retry;
        break;
      }
    }
  }
  if (gave_up) {
    EXPECT_EQ(next, requests.size());
    return {};
  }
  EXPECT_EQ(next, requests.size()) << "upstream asked more than we do";
  const judged::FanOutScores scores = judged::score_fan_out(metric, parts, answers);
  Played out;
  out.ok = scores.ok;
  for (const auto& [name, value] : scores.scores) out.scores.push_back(value);
  return out;
}

TEST(LongCiteJudge, RequestsAndScoresAreUpstreams) {
  json header;
  const std::vector<json> cases = read_cases("judge.jsonl", &header);
  const judged::JudgedMetric* citation = judged::find_judged_metric("longcite_citation");
  const judged::JudgedMetric* correctness = judged::find_judged_metric("longcite_correctness");
  ASSERT_NE(citation, nullptr);
  ASSERT_NE(correctness, nullptr);
  EXPECT_EQ(judged::find_judged_score("longcite_citation_f1"), citation);
  EXPECT_EQ(judged::find_judged_score("longcite_correctness"), correctness);
  int citation_cases = 0, correctness_cases = 0, raising = 0;
  for (const json& c : cases) {
    SCOPED_TRACE(c.dump().substr(0, 300));
    if (c["metric"] == "longcite_citation") {
      ++citation_cases;
      const json meta = {{"query", c["query"]}, {"context", c["context"]}, {"dataset", "hotpotqa"}};
      const auto parts = judged::render_longcite_citation_parts(c["prediction"], {"Alice"}, meta);
      const Played p = play(*citation, parts, c["requests"]);
      EXPECT_EQ(p.ok, !c["raises"].get<bool>());
      if (c["raises"].get<bool>()) {
        ++raising;
        continue;
      }
      ASSERT_EQ(p.scores.size(), 3u);
      EXPECT_NEAR(100 * p.scores[0], 100 * c["f1"].get<double>(), 0.01);
      EXPECT_NEAR(100 * p.scores[1], 100 * c["recall"].get<double>(), 0.01);
      EXPECT_NEAR(100 * p.scores[2], 100 * c["precision"].get<double>(), 0.01);
    } else {
      ++correctness_cases;
      json meta = {{"query", c["query"]}, {"dataset", c["dataset"]}};
      if (!c["few_shot_scores"].is_null()) meta["few_shot_scores"] = c["few_shot_scores"];
      const auto parts = judged::render_longcite_correctness_parts(c["prediction"], strings(c["references"]), meta);
      const Played p = play(*correctness, parts, c["requests"]);
      EXPECT_EQ(p.ok, !c["raises"].get<bool>());
      if (c["raises"].get<bool>()) {
        ++raising;
        continue;
      }
      ASSERT_EQ(p.scores.size(), 1u);
      EXPECT_NEAR(100 * p.scores[0], 100 * c["score"].get<double>(), 0.01);
    }
  }
  EXPECT_EQ(citation_cases, 8);
  EXPECT_EQ(correctness_cases, 8);
  EXPECT_EQ(raising, 2);
}

TEST(LongCiteJudge, RowsWithoutTheirFieldsAreNotRendered) {
  EXPECT_THROW(judged::render_longcite_citation_parts("x", {}, {{"query", "q"}}), judged::JudgeInputError);
  EXPECT_THROW(judged::render_longcite_correctness_parts("x", {"a"}, {{"query", "q"}, {"dataset", "other"}}),
               judged::JudgeInputError);
  EXPECT_THROW(judged::render_longcite_correctness_parts("x", {"a"}, {{"query", "q"}, {"dataset", "longbench-chat"}}),
               judged::JudgeInputError);  // no few_shot_scores
  const judged::JudgedMetric& m = *judged::find_judged_metric("longcite_citation");
  const json meta = {{"query", "q"}, {"context", "One. Two."}};
  const std::string h = judged::verdict_hash(m, "<statement>A<cite>[0-0]</cite></statement>", {}, meta);
  EXPECT_EQ(h, judged::verdict_hash(m, "<statement>A<cite>[0-0]</cite></statement>", {}, meta));
  EXPECT_NE(h, judged::verdict_hash(m, "<statement>A<cite>[1-1]</cite></statement>", {}, meta));
}

// ------------------------------------------------------------------------------------------ the judge pass

class JudgeServer {
 public:
  JudgeServer()
      : server_("/v1/chat/completions", [this](const httplib::Request& req, httplib::Response& res) {
          const json body = json::parse(req.body);
          {
            std::lock_guard<std::mutex> lock(mutex_);
            bodies_.push_back(body);
          }
          test_support::set_chat_completion(res, answer(body["messages"].back()["content"].get<std::string>()));
        }) {}
  std::string base_url() const { return server_.base_url(); }
  std::vector<json> bodies() {
    std::lock_guard<std::mutex> lock(mutex_);
    return bodies_;
  }

 private:
  std::string answer(const std::string& prompt) {
    if (prompt.find("whether this statement is supported") != std::string::npos) return "Rating: [[Fully supported]]";
    if (prompt.find("requires citation") != std::string::npos)  // the first answer has no rating: asked again
      return need_citation_asked_++ == 0 ? "I cannot tell." : "Need Citation: [[Yes]]";
    if (prompt.find("contains some key information") != std::string::npos)
      return prompt.find("Bob") != std::string::npos ? "Rating: [[Unrelevant]]" : "Rating: [[Relevant]]";
    return "[[3]]";
  }

  std::mutex mutex_;
  std::vector<json> bodies_;
  std::atomic<int> need_citation_asked_{0};
  test_support::LoopbackServer server_;
};

class LongCitePass : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("longcite_pass_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    path_ = dir_ / "run.h5";
    auto store = results::ResultStore::open(path_, results::JobAttributes{});
    const std::string context = "Alice founded the company. Bob joined later. It was sold.";
    // Row 0: two cited statements (support Fully → recall 1; citations: Alice relevant, Bob unrelevant → precision
    // 0.5; F1 2/3). Row 1: one statement without citation (need citation Yes → recall 0; no citations → precision 0).
    // Row 2: no statement at all (5 characters or fewer): 0 without a request.
    const std::vector<std::string> predictions = {
        "<statement>Alice founded it.<cite>[0-0]</cite></statement><statement>Bob joined.<cite>[1-1]</cite></statement>",
        "<statement>It was sold.<cite></cite></statement>", "Yes."};
    for (int i = 0; i < 3; ++i) {
      results::ResultRow row;
      row.sample_key = "LongCite/hotpotqa/0/" + std::to_string(i) + "/full";
      row.benchmark = "LongCite";
      row.task = "hotpotqa";
      row.capability = "Faithfulness";
      row.metric = "longcite_citation_f1";
      row.sample_index = i;
      row.prediction = predictions[i];
      row.references_json = json::array({"Alice"}).dump();
      row.metadata_json = json{{"idx", i}, {"dataset", "hotpotqa"}, {"query", "Who?"}, {"context", context}}.dump();
      row.method = "full";
      store->append(row);
    }
    store->close();
  }
  void TearDown() override { fs::remove_all(dir_); }

  report::MetricsPassResult report(bool configured) {
    report::MetricsPassOptions options;
    options.write_html = false;
    options.judge_configured = configured;
    std::ostringstream out;
    auto result = report::run_metrics_pass(path_, out, options);
    printed_ = out.str();
    return result;
  }
  fs::path dir_, path_;
  std::string printed_;
};

TEST_F(LongCitePass, OneRequestPerStatementAndCitationThenTheScoresAndARerunAsksNothing) {
  JudgeServer server;
  judge::JudgeConfig config;
  config.base_url = server.base_url();
  config.model = "judge-model";
  config.max_concurrency = 3;
  std::ostringstream out;
  const judge::JudgePassResult first = judge::run_judge_pass(path_, config, out);
  EXPECT_EQ(first.applicable, 6);  // 3 rows x (citation, correctness)
  EXPECT_EQ(first.asked, 6);
  EXPECT_EQ(first.ok, 6);
  // Row 0: 2 support + 2 relevant; row 1: 1 need-citation, asked twice; row 2: none; correctness: 1 per row.
  EXPECT_EQ(first.requests, 9);
  int retried = 0;
  for (const json& body : server.bodies()) {
    if (body["temperature"] == 1) {  // upstream's retry after an answer without a rating
      ++retried;
      continue;
    }
    if (body["messages"].size() == 1) {
      EXPECT_EQ(body["max_tokens"], 10);
      EXPECT_EQ(body["stop"], json::array({"Analysis:"}));
    } else {
      EXPECT_EQ(body["max_tokens"], 1024);
      EXPECT_FALSE(body.contains("stop"));
    }
    EXPECT_EQ(body["temperature"], 0);
  }
  EXPECT_EQ(retried, 1);
  const auto r = report(true);
  const json& task = r.json["methods"]["full"]["benchmarks"]["LongCite"]["tasks"]["hotpotqa"];
  const json& judged = task["judged"];
  EXPECT_NEAR(judged["longcite_citation_recall"]["score"].get<double>(), 100.0 / 3, 1e-9);
  EXPECT_NEAR(judged["longcite_citation_precision"]["score"].get<double>(), 50.0 / 3, 1e-9);
  EXPECT_NEAR(judged["longcite_citation_f1"]["score"].get<double>(), 200.0 / 9, 1e-9);
  EXPECT_NEAR(judged["longcite_correctness"]["score"].get<double>(), 100, 1e-9);
  EXPECT_EQ(judged["longcite_citation_f1"]["computed"], 3);
  EXPECT_NEAR(task["score"].get<double>(), 200.0 / 9, 1e-9);  // the row metric: citation F1
  EXPECT_EQ(results::read_verdicts(path_).size(), 6u);

  const judge::JudgePassResult second = judge::run_judge_pass(path_, config, out);
  EXPECT_EQ(second.reused, 6);
  EXPECT_EQ(second.asked, 0);
  EXPECT_EQ(server.bodies().size(), 9u);
}

TEST_F(LongCitePass, WithoutAJudgeNothingIsComputed) {
  const auto r = report(false);
  const json& task = r.json["methods"]["full"]["benchmarks"]["LongCite"]["tasks"]["hotpotqa"];
  for (const char* name : {"longcite_citation_f1", "longcite_citation_recall", "longcite_citation_precision",
                           "longcite_correctness"}) {
    EXPECT_TRUE(task["judged"][name]["score"].is_null()) << name;
    EXPECT_EQ(task["judged"][name]["not_computed"], 3) << name;
    EXPECT_NE(task["judged"][name]["reasons"].dump().find("no judge configured"), std::string::npos);
  }
  EXPECT_TRUE(task["score"].is_null() || std::isnan(task["score"].get<double>()));
}

}  // namespace
}  // namespace loom::metrics
