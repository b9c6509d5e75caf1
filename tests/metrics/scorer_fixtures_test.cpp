// Every scorer against the official rule: tests/fixtures/metrics/<family>.jsonl cases, expected values computed by
// tools/fixtures/make_scorer_fixtures.py with the official packages / functions.
#include "metrics/fixture_reader.h"
#include "metrics/scorer.h"

#include "common/error.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>

namespace loom::metrics {
namespace {

const std::vector<std::string> kNonScorerFixtures = {"jieba_cut.jsonl", "babilong_files.jsonl"};

std::vector<std::string> scorer_fixture_files() {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(testing::fixture_dir())) {
    const std::string name = e.path().filename().string();
    if (e.path().extension() != ".jsonl") continue;
    if (std::find(kNonScorerFixtures.begin(), kNonScorerFixtures.end(), name) != kNonScorerFixtures.end()) continue;
    out.push_back(e.path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST(ScorerFixtures, EveryCaseMatchesTheOfficialRule) {
  std::map<std::string, int> cases_per_metric;
  std::map<std::string, std::unique_ptr<Scorer>> scorers;
  int failures = 0;
  for (const auto& file : scorer_fixture_files()) {
    int line = 0;
    for (const auto& c : testing::read_jsonl(file)) {
      ++line;
      const std::string metric = c.at("metric");
      auto& scorer = scorers[metric];
      if (!scorer) scorer = make_scorer(metric);
      const double got = scorer->score(c.at("prediction").get<std::string>(),
                                       c.at("references").get<std::vector<std::string>>(), c.at("metadata"));
      const double expected = c.at("expected").get<double>();
      if (std::abs(got - expected) > 1e-9) {
        ++failures;
        ADD_FAILURE() << std::filesystem::path(file).filename().string() << ":" << line << " " << metric
                      << " prediction=" << c.at("prediction").dump() << " references=" << c.at("references").dump()
                      << " metadata=" << c.at("metadata").dump() << " expected " << expected << " got " << got;
      }
      ++cases_per_metric[metric];
    }
  }
  EXPECT_EQ(failures, 0);
  for (const auto& [metric, n] : cases_per_metric) EXPECT_GE(n, 20) << "too few fixture cases for " << metric;
}

TEST(ScorerFixtures, EveryKnownMetricHasFixtures) {
  std::map<std::string, int> seen;
  for (const auto& file : scorer_fixture_files())
    for (const auto& c : testing::read_jsonl(file)) ++seen[c.at("metric").get<std::string>()];
  for (const auto& name : known_metrics()) EXPECT_GE(seen[name], 20) << name;
}

// BAMBOO senhallu / abshallu: the official task score is sklearn's F1 over the task, which the aggregation of
// bamboo_hallu rebuilds from the two per-sample metrics; sets and values from BAMBOO's evaluate.py
// (tools/fixtures/parity/bamboo_eval.py), to 0.01 points.
TEST(ScorerFixtures, BambooHallucinationF1MatchesEvaluatePy) {
  std::ifstream in(testing::fixture_dir() + "/bamboo_f1_sets.json");
  ASSERT_TRUE(in);
  const nlohmann::json sets = nlohmann::json::parse(in);
  ASSERT_GE(sets.size(), 5u);
  const auto hallu = make_scorer("bamboo_hallu");
  const auto said_yes = make_scorer("bamboo_hallu_said_yes");
  ASSERT_NE(hallu->aggregation(), nullptr);
  EXPECT_EQ(said_yes->aggregation(), hallu->aggregation());
  for (const auto& set : sets) {
    std::vector<TaskSample> samples;
    const auto predictions = set.at("predictions").get<std::vector<std::string>>();
    const auto references = set.at("references").get<std::vector<std::string>>();
    for (size_t i = 0; i < predictions.size(); ++i) {
      TaskSample s;
      s.index = static_cast<int64_t>(i);
      s.metric_scores["bamboo_hallu"] = 100 * hallu->score(predictions[i], {references[i]}, nlohmann::json::object());
      s.metric_scores["bamboo_hallu_said_yes"] =
          100 * said_yes->score(predictions[i], {references[i]}, nlohmann::json::object());
      samples.push_back(s);
    }
    EXPECT_NEAR(hallu->aggregation()->task_score("senhallu", samples), set.at("f1").get<double>(), 0.01)
        << set.dump();
  }
}

TEST(ScorerRegistry, UnknownMetricIsAnInputError) {
  try {
    make_scorer("no_such_metric");
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_EQ(e.key(), "metric");
    EXPECT_NE(std::string(e.what()).find("qa_f1"), std::string::npos);  // lists the known names
  }
}

TEST(ScorerRegistry, ScoresStayInUnitInterval) {
  for (const auto& file : scorer_fixture_files())
    for (const auto& c : testing::read_jsonl(file)) {
      double e = c.at("expected").get<double>();
      EXPECT_GE(e, 0.0);
      EXPECT_LE(e, 1.0 + 1e-12);
    }
}

}  // namespace
}  // namespace loom::metrics
