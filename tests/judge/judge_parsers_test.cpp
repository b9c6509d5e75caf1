// The judged metrics' prompts and parsers against tests/fixtures/judge/*.jsonl, written by upstream's own code run
// unchanged (tools/fixtures/judge/make_judge_fixtures.py): THUDM/LongWriter eval_quality.py's process_data loop and
// aggregation (ca6ccd4), gkamradt/LLMTest_NeedleInAHaystack's OpenAIEvaluator with langchain 0.1.9 (7b90d28).
#include "metrics/judged/judged_metrics.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <string>
#include <vector>

namespace loom::metrics::judged {
namespace {

std::vector<nlohmann::json> read_cases(const std::string& name) {
  std::ifstream in(std::string(LOOM_SOURCE_DIR) + "/tests/fixtures/judge/" + name);
  EXPECT_TRUE(in) << name;
  std::vector<nlohmann::json> cases;
  std::string line;
  bool header = true;
  while (std::getline(in, line)) {
    if (header) {
      header = false;  // source and commit
      continue;
    }
    cases.push_back(nlohmann::json::parse(line));
  }
  return cases;
}

TEST(LongWriterQuality, PromptAndRequestAsUpstream) {
  const auto cases = read_cases("longwriter_quality.jsonl");
  ASSERT_GE(cases.size(), 20u);
  for (const auto& c : cases) {
    const JudgeRequest r = render_longwriter_quality(c["response"], {}, {{"prompt", c["instruction"]}});
    ASSERT_EQ(r.messages.size(), 1u);
    EXPECT_EQ(r.messages[0].role, "user");
    EXPECT_EQ(r.messages[0].content, c["prompt"].get<std::string>());
    EXPECT_EQ(*r.temperature, c["temperature"].get<double>());
    EXPECT_EQ(*r.max_tokens, c["max_tokens"].get<int>());
  }
}

// process_data's loop: ask while the answer is rejected and trys < 5; an answer costs 1 or 2 tries.
TEST(LongWriterQuality, ParsingAndRetriesAsUpstream) {
  const JudgedMetric& metric = *find_judged_metric("longwriter_quality");
  for (const auto& c : read_cases("longwriter_quality.jsonl")) {
    const auto answers = c["answers"].get<std::vector<std::string>>();
    int calls = 0, tries = 0;
    bool accepted = false, raises = false;
    double total = 0;
    while (tries < metric.max_tries) {
      const std::string answer = calls < static_cast<int>(answers.size()) ? answers[calls] : "no more crafted answers";
      ++calls;
      const JudgeParse p = metric.parse(answer);
      if (p.ok) {
        accepted = true;
        total = 100 * p.score;
        break;
      }
      if (!p.retry) {
        accepted = raises = true;
        break;
      }
      tries += p.tries_used;
    }
    SCOPED_TRACE(c["answers"].dump());
    EXPECT_EQ(calls, c["calls"].get<int>());
    EXPECT_EQ(accepted, c["accepted"].get<bool>());
    EXPECT_EQ(raises, c.contains("aggregation_raises"));
    if (c.contains("total")) EXPECT_NEAR(total, c["total"].get<double>(), 1e-9);
  }
}

TEST(LongWriterQuality, ARowWithoutItsRequestIsNotRendered) {
  EXPECT_THROW(render_longwriter_quality("text", {}, {{"length", 500}}), JudgeInputError);
}

TEST(NiahJudge, PromptRatingAndErrorsAsUpstream) {
  const auto cases = read_cases("niah_judge.jsonl");
  ASSERT_GE(cases.size(), 20u);
  for (const auto& c : cases) {
    SCOPED_TRACE(c["answer"].dump());
    const JudgeRequest r = render_niah_judge(c["prediction"], {},
                                             {{"retrieval_question", c["retrieval_question"]}, {"needle", c["needle"]}});
    ASSERT_EQ(r.messages.size(), c["messages"].size());
    for (size_t i = 0; i < r.messages.size(); ++i) {
      EXPECT_EQ(r.messages[i].role, c["messages"][i]["role"].get<std::string>());
      EXPECT_EQ(r.messages[i].content, c["messages"][i]["content"].get<std::string>());
    }
    EXPECT_EQ(*r.temperature, 0);
    EXPECT_FALSE(r.max_tokens);
    const JudgeParse p = parse_niah_judge(c["answer"]);
    EXPECT_EQ(p.ok, c.contains("score"));
    if (c.contains("score")) EXPECT_DOUBLE_EQ(p.score * 10, c["score"].get<double>());
  }
}

TEST(JudgedMetrics, RequestHashFollowsTheRequest) {
  const nlohmann::json md = {{"prompt", "Write."}};
  EXPECT_EQ(request_hash(render_longwriter_quality("a", {}, md)), request_hash(render_longwriter_quality("a", {}, md)));
  EXPECT_NE(request_hash(render_longwriter_quality("a", {}, md)), request_hash(render_longwriter_quality("b", {}, md)));
}

}  // namespace
}  // namespace loom::metrics::judged
