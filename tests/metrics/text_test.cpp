// Text primitives: jieba segmentation against Python jieba 0.42.1 (fixture), Python str semantics, ROUGE edge cases.
#include "metrics/fixture_reader.h"
#include "metrics/text/fuzzy_ratio.h"
#include "metrics/text/jieba_segmenter.h"
#include "metrics/text/normalize.h"
#include "metrics/text/rouge.h"
#include "metrics/text/unicode_text.h"

#include "common/error.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>

namespace loom::metrics::text {
namespace {

TEST(Jieba, CutMatchesPythonJieba) {
  const auto& jieba = JiebaSegmenter::shared();
  int mismatches = 0;
  for (const auto& c : testing::read_jsonl(testing::fixture_dir() + "/jieba_cut.jsonl")) {
    auto got = jieba.cut(c.at("text").get<std::string>());
    auto expected = c.at("tokens").get<std::vector<std::string>>();
    if (got != expected) {
      ++mismatches;
      ADD_FAILURE() << "text: " << c.at("text").dump() << "\nexpected: " << nlohmann::json(expected).dump()
                    << "\ngot:      " << nlohmann::json(got).dump();
    }
  }
  EXPECT_EQ(mismatches, 0);
}

// A larger corpus when LOOM_JIEBA_CORPUS names a JSON-lines file of {"text", "tokens"} written with Python jieba
// (e.g. every line of The_Story_of_the_Stone.txt); skipped otherwise.
TEST(Jieba, OptionalLargeCorpusMatchesPythonJieba) {
  const char* corpus = std::getenv("LOOM_JIEBA_CORPUS");
  if (!corpus || !*corpus) GTEST_SKIP() << "LOOM_JIEBA_CORPUS not set";
  const auto& jieba = JiebaSegmenter::shared();
  size_t lines = 0, tokens = 0, mismatches = 0;
  for (const auto& c : testing::read_jsonl(corpus)) {
    auto expected = c.at("tokens").get<std::vector<std::string>>();
    ++lines;
    tokens += expected.size();
    if (jieba.cut(c.at("text").get<std::string>()) != expected) ++mismatches;
  }
  std::printf("jieba corpus: %zu lines, %zu tokens, %zu mismatching lines\n", lines, tokens, mismatches);
  EXPECT_EQ(mismatches, 0u);
}

TEST(Jieba, MissingModelIsAnInputErrorNamingTheFile) {
  try {
    JiebaSegmenter segmenter("/nonexistent/jieba");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("dict.txt"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("python3-jieba"), std::string::npos);
  }
}

TEST(PythonText, LowerSplitAndNormalise) {
  EXPECT_EQ(py_lower(std::string("ÄÖÜ ABC İ")), "äöü abc i̇");
  EXPECT_EQ(py_split(std::string(" a\u3000b\tc\n")), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(squad_normalize("The Quick, brown fox's an apple!"), "quick brown foxs apple");
  EXPECT_EQ(zh_normalize("你好，世界！ A b"), "你好世界ab");
  EXPECT_EQ(find_digit_runs("a12 b３4 c"), (std::vector<std::string>{"12", "３4"}));
}

TEST(Fuzz, RatioRoundsHalfToEven) {
  EXPECT_EQ(fuzz_ratio("", ""), 100);
  EXPECT_EQ(fuzz_ratio("a", ""), 0);
  EXPECT_EQ(fuzz_ratio("abcd", "abce"), 75);
}

TEST(Rouge, PltrdyEmptyHypothesisRaises) {
  EXPECT_FALSE(pltrdy_rouge("", "a b", 991).has_value());
  EXPECT_FALSE(pltrdy_rouge("...", "a b", 991).has_value());
  auto s = pltrdy_rouge("a b", "a b", 991);
  ASSERT_TRUE(s.has_value());
  EXPECT_NEAR(s->rougel.f, 1.0, 1e-7);
}

}  // namespace
}  // namespace loom::metrics::text
