// L-CiteEval citation recall / precision / F1 against tests/fixtures/judge/lciteeval_citation.jsonl, written by
// upstream's compute_autoais run unchanged with a fake NLI model (tools/fixtures/parity/lciteeval_citation_eval.py,
// ZetangForward/L-CITEEVAL 6e49326): the same scores within 0.01 points, the same checks asked (TRUE's input text
// byte for byte, no extra ones), and the same sentence split.
#include "metrics/judged/lciteeval_citation.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace loom::metrics::judged {
namespace {

std::vector<nlohmann::json> read_cases() {
  std::ifstream in(std::string(LOOM_SOURCE_DIR) + "/tests/fixtures/judge/lciteeval_citation.jsonl");
  EXPECT_TRUE(in);
  std::vector<nlohmann::json> cases;
  std::string line;
  std::getline(in, line);  // source and commit
  while (std::getline(in, line)) cases.push_back(nlohmann::json::parse(line));
  return cases;
}

// Evaluates like a pass would: rounds of asking whatever is missing, answered from upstream's recorded calls.
struct RoundsRun {
  CitationEvaluation result;
  std::vector<std::string> asked_inputs;  // TRUE inputs, in asking order
  int rounds = 0;
};

RoundsRun evaluate_in_rounds(const nlohmann::json& c) {
  std::map<std::pair<std::string, std::string>, bool> canned, answered;
  for (const auto& call : c["nli_calls"]) canned[{call["premise"], call["hypothesis"]}] = call["entailed"].get<bool>();
  RoundsRun run;
  const NliOracle oracle = [&](const std::string& p, const std::string& h) {
    auto it = answered.find({p, h});
    if (it == answered.end()) return NliLookup{};
    return NliLookup{it->second ? NliLookup::State::entailed : NliLookup::State::not_entailed, ""};
  };
  for (;;) {
    run.result = evaluate_citations(c["generation"], c["docs"], oracle, c["at_most_citations"]);
    if (run.result.missing.empty()) break;
    ++run.rounds;
    for (const NliQuery& q : run.result.missing) {
      auto it = canned.find({q.premise, q.hypothesis});
      EXPECT_NE(it, canned.end()) << "upstream never asks: " << true_nli_input(q.premise, q.hypothesis);
      answered[{q.premise, q.hypothesis}] = it != canned.end() && it->second;
      run.asked_inputs.push_back(true_nli_input(q.premise, q.hypothesis));
    }
    if (run.rounds > 5) break;
  }
  return run;
}

TEST(LCiteEvalCitation, ScoresAndChecksAsUpstream) {
  const auto cases = read_cases();
  ASSERT_GE(cases.size(), 40u);
  for (const auto& c : cases) {
    if (c["task"] != "hotpotqa") continue;
    SCOPED_TRACE(c["generation"].get<std::string>());
    EXPECT_EQ(split_statements(c["generation"]), c["sentences"].get<std::vector<std::string>>());
    const RoundsRun run = evaluate_in_rounds(c);
    EXPECT_TRUE(run.result.failed.empty()) << run.result.failed;
    // Every upstream call asked once (upstream repeats identical checks; a stored answer serves them all).
    std::set<std::string> upstream_inputs;
    for (const auto& call : c["nli_calls"]) {
      upstream_inputs.insert(call["input"].get<std::string>());
      EXPECT_EQ(call["input"].get<std::string>(), true_nli_input(call["premise"], call["hypothesis"]));
    }
    EXPECT_EQ(std::set<std::string>(run.asked_inputs.begin(), run.asked_inputs.end()), upstream_inputs);
    EXPECT_EQ(run.asked_inputs.size(), upstream_inputs.size());
    if (c["expected"].is_null()) {
      EXPECT_TRUE(run.result.no_statements);
      EXPECT_FALSE(run.result.scores.has_value());
      continue;
    }
    ASSERT_TRUE(run.result.scores.has_value());
    const auto& e = c["expected"];
    EXPECT_NEAR(100 * run.result.scores->recall, 100 * e["recall"].get<double>(), 0.01);
    EXPECT_NEAR(100 * run.result.scores->precision, 100 * e["precision"].get<double>(), 0.01);
    EXPECT_NEAR(100 * run.result.scores->f1, 100 * e["f1"].get<double>(), 0.01);
    EXPECT_EQ(run.result.scores->citations, e["cite_num"].get<int64_t>());
  }
}

// niah and counting_stars: upstream's compute_niah_citation / compute_counting_stars_citation, no NLI.
TEST(LCiteEvalCitation, NiahAndCountingStarsAsUpstream) {
  int niah = 0, stars = 0;
  for (const auto& c : read_cases()) {
    if (c["task"] == "hotpotqa") continue;
    SCOPED_TRACE(c["generation"].get<std::string>());
    std::string why;
    const std::optional<CitationScores> s =
        c["task"] == "niah" ? (++niah, niah_citation(c["generation"], c["answer"], c["docs"], &why))
                            : (++stars, counting_stars_citation(c["generation"], c["docs"], &why));
    ASSERT_TRUE(s.has_value()) << why;
    const auto& e = c["expected"];
    EXPECT_NEAR(100 * s->recall, 100 * e["recall"].get<double>(), 0.01);
    EXPECT_NEAR(100 * s->precision, 100 * e["precision"].get<double>(), 0.01);
    EXPECT_NEAR(100 * s->f1, 100 * e["f1"].get<double>(), 0.01);
    if (e.contains("cite_num")) EXPECT_EQ(s->citations, e["cite_num"].get<int64_t>());
  }
  EXPECT_GE(niah, 9);
  EXPECT_GE(stars, 10);
  std::string why;
  EXPECT_FALSE(niah_citation("x [1].", "absent", nlohmann::json::array({"a", "b"}), &why).has_value());
  EXPECT_NE(why.find("no passage contains the answer"), std::string::npos);
  EXPECT_FALSE(counting_stars_citation("{\"passage_id\": []}", nlohmann::json::array({"The little penguin counted 1"}),
                                       &why).has_value());
}

TEST(LCiteEvalCitation, TrueAnswerAndRequestText) {
  EXPECT_EQ(true_nli_input("Passage: a", "b"), "premise: Passage: a hypothesis: b");
  EXPECT_TRUE(true_nli_entailed("1"));
  EXPECT_TRUE(true_nli_entailed(" 1\n"));
  EXPECT_FALSE(true_nli_entailed("0"));
  EXPECT_FALSE(true_nli_entailed("10"));
  EXPECT_FALSE(true_nli_entailed(""));
  EXPECT_EQ(nli_query_hash("a", "b"), nli_query_hash("a", "b"));
  EXPECT_NE(nli_query_hash("a", "b"), nli_query_hash("a b", ""));
}

// A stored answer read back: a local classifier's label (upstream: label == "entailment", exactly) or TRUE's "1".
TEST(LCiteEvalCitation, StoredAnswerRule) {
  EXPECT_TRUE(nli_answer_entailed("entailment"));
  EXPECT_TRUE(nli_answer_entailed("1"));
  EXPECT_TRUE(nli_answer_entailed(" 1\n"));
  EXPECT_FALSE(nli_answer_entailed("neutral"));
  EXPECT_FALSE(nli_answer_entailed("contradiction"));
  EXPECT_FALSE(nli_answer_entailed("Entailment"));
  EXPECT_FALSE(nli_answer_entailed(" entailment"));
  EXPECT_FALSE(nli_answer_entailed("0"));
}

TEST(LCiteEvalCitation, StoredFailureStopsAndNamesTheReason) {
  const nlohmann::json docs = {"F1 here.", "F2 here."};
  const NliOracle failing = [](const std::string&, const std::string&) {
    return NliLookup{NliLookup::State::failed, "HTTP 500: boom"};
  };
  const CitationEvaluation r = evaluate_citations("F1 holds [1].", docs, failing);
  EXPECT_FALSE(r.scores.has_value());
  EXPECT_EQ(r.failed, "HTTP 500: boom");
  EXPECT_TRUE(lciteeval_nli_task("hotpotqa"));
  EXPECT_FALSE(lciteeval_nli_task("niah"));
  EXPECT_FALSE(lciteeval_nli_task("counting_stars"));
}

}  // namespace
}  // namespace loom::metrics::judged
