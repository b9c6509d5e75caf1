// LooGLE's building blocks against the official Python (tools/fixtures/parity/loogle_metrics.py): nltk 3.8.1's
// PorterStemmer and WordNet synonym sets read from Debian's WordNet 3.0 files, every LooGLE scorer within 0.01
// points of bigai-nlco/LooGLE's evaluation(), the Python-literal reader behind cloze predictions and qa_pairs,
// and METEOR's refusal without WordNet.
#include "common/error.h"
#include "metrics/fixture_reader.h"
#include "metrics/rescoring/prediction_files.h"
#include "metrics/scorer.h"
#include "metrics/text/porter_stemmer.h"
#include "metrics/text/python_literal.h"
#include "metrics/text/wordnet.h"

#include <gtest/gtest.h>

#include <cmath>
#include <set>

namespace loom::metrics {
namespace {

std::string text_fixture(const std::string& name) { return std::string(LOOM_SOURCE_DIR) + "/tests/fixtures/text/" + name; }

TEST(NltkPorter, EveryWordStemsAsNltk) {
  const auto cases = testing::read_jsonl(text_fixture("nltk_porter.jsonl"));
  ASSERT_GE(cases.size(), 100u);
  for (const auto& c : cases)
    EXPECT_EQ(text::nltk_porter_stem(c.at("word").get<std::string>()), c.at("stem").get<std::string>()) << c.dump();
}

TEST(WordNet, SynonymSetsEqualNltks) {
  const std::string reason = text::WordNet::unavailable_reason(text::WordNet::kDefaultDir);
  ASSERT_EQ(reason, "") << "tools/install-deps.sh installs wordnet-base";
  const auto wordnet = text::WordNet::open(text::WordNet::kDefaultDir);
  const auto cases = testing::read_jsonl(text_fixture("nltk_wordnet.jsonl"));
  ASSERT_GE(cases.size(), 50u);
  for (const auto& c : cases) {
    const auto expected = c.at("synonyms").get<std::vector<std::string>>();
    const std::set<std::string> got = wordnet->synonyms(c.at("word").get<std::string>());
    EXPECT_EQ(std::vector<std::string>(got.begin(), got.end()), expected) << c.at("word");
  }
}

TEST(WordNet, MissingDatabaseIsNamed) {
  const std::string reason = text::WordNet::unavailable_reason("/no/such/wordnet");
  EXPECT_NE(reason.find("/no/such/wordnet"), std::string::npos);
  EXPECT_NE(reason.find("wordnet-base"), std::string::npos);
  auto meteor = make_scorer("loogle_meteor");
  try {
    meteor->score("a cat", {"a cat"}, {{"wordnet_dir", "/no/such/wordnet"}});
    FAIL() << "expected an error naming the missing database";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("/no/such/wordnet"), std::string::npos);
  }
}

// Every case of tests/fixtures/metrics/loogle.jsonl within 0.01 points (scores 0..100) of the official value.
TEST(LooGLEScorers, WithinAHundredthOfAPointOfTheOfficialScript) {
  const auto cases = testing::read_jsonl(testing::fixture_dir() + "/loogle.jsonl");
  std::map<std::string, int> per_metric;
  for (const auto& c : cases) {
    auto scorer = make_scorer(c.at("metric"));
    const double got = 100.0 * scorer->score(c.at("prediction"), c.at("references").get<std::vector<std::string>>(),
                                             c.at("metadata"));
    EXPECT_NEAR(got, 100.0 * c.at("expected").get<double>(), 0.01) << c.dump();
    ++per_metric[c.at("metric")];
  }
  for (const char* metric : {"loogle_bleu1", "loogle_bleu4", "loogle_rouge1", "loogle_rouge2", "loogle_rougel",
                             "loogle_meteor", "loogle_cloze_exact", "loogle_cloze_partial"})
    EXPECT_GE(per_metric[metric], 20) << metric;
}

// `loom_mpi score --benchmark LooGLE`: LooGLE's published Output/shortdep_qa_<model>.jsonl files, a cloze file and a
// LOOM-Scope-format file give what automatic_eval.py prints (tools/fixtures/parity/loogle_metrics.py).
TEST(LooGLERescoring, PredictionFilesMatchTheOfficialScript) {
  const std::string dir = testing::fixture_dir() + "/rescoring";
  const auto cases = testing::read_jsonl(dir + "/loogle/expected.jsonl");
  ASSERT_EQ(cases.size(), 5u);
  for (const auto& c : cases) {
    const auto r = rescore_predictions("LooGLE", "", dir + "/" + c.at("file").get<std::string>());
    EXPECT_EQ(r.task, c.at("task").get<std::string>());
    EXPECT_EQ(r.scale, c.at("scale").get<std::string>());
    const double tolerance = r.scale == "0-1" ? 1e-4 : 0.01;  // 0.01 points
    EXPECT_NEAR(r.score, c.at("score").get<double>(), tolerance) << c.dump();
    ASSERT_EQ(r.breakdown.size(), c.at("breakdown").size()) << c.dump();
    for (const auto& [name, value] : r.breakdown)
      EXPECT_NEAR(value, c.at("breakdown").at(name).get<double>(), tolerance) << c.dump() << " " << name;
  }
  EXPECT_THROW(rescore_predictions("LooGLE", "", dir + "/longins/LIST_8192.jsonl"), InputError);
}

TEST(PythonLiteral, ReadsWhatEvalReads) {
  auto v = text::parse_python_literal("[{'Q': \"It's\\n\", 'A': {'<mask-0>': 'B' 'ob'}, 'S': ['x', (1,), (2)]}]");
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ((*v)[0]["Q"], "It's\n");
  EXPECT_EQ((*v)[0]["A"]["<mask-0>"], "Bob");
  EXPECT_EQ((*v)[0]["S"], nlohmann::json::parse(R"(["x", [1], 2])"));
  EXPECT_EQ(*text::parse_python_literal(" {'a': -1.5e1, 'b': None, 'c': True, 'd': 0x10}  # note\n"),
            nlohmann::json::parse(R"({"a": -15.0, "b": null, "c": true, "d": 16})"));
  EXPECT_EQ(*text::parse_python_literal("'\\xe9\\u00e9\\U0001F600\\101\\q'"), "\xc3\xa9\xc3\xa9\xf0\x9f\x98\x80" "A\\q");
  EXPECT_EQ(*text::parse_python_literal("r'a\\nb'"), "a\\nb");
  EXPECT_EQ(*text::parse_python_literal("'''a\nb'''"), "a\nb");
  std::string why;
  EXPECT_FALSE(text::parse_python_literal("\n\n  {'a': 1}", &why).has_value());
  EXPECT_EQ(why, "unexpected indent");
  EXPECT_FALSE(text::parse_python_literal("Answer: {'a': 1}").has_value());
  EXPECT_FALSE(text::parse_python_literal("{'a': 1};").has_value());
  EXPECT_FALSE(text::parse_python_literal("{'a': 1}\nmore").has_value());
  EXPECT_FALSE(text::parse_python_literal("{'a': x}").has_value());
  EXPECT_FALSE(text::parse_python_literal("").has_value());
}

}  // namespace
}  // namespace loom::metrics
