// NLTK's untrained Punkt (src/text/punkt.h) against nltk itself: tests/fixtures/text/punkt.json from
// tools/fixtures/make_punkt_fixtures.py (nltk 3.8.1 and 3.10.4 run unchanged on 15 crafted and 600 random texts):
// the two options that separate the releases (typographic quotes; the `regex` module's \s and \w), and the initial /
// number rules before Python's upper / lower case code points. The large parity sets run in longcite_judge_test
// (325 texts, nltk 3.8.1) and rag_llamaindex_test (78 texts, 3.10.4).
#include "text/punkt.h"
#include "text/utf8.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>

namespace {

using Spans = std::vector<std::pair<size_t, size_t>>;

const nlohmann::json& fixture() {
  static const nlohmann::json json = [] {
    std::ifstream in(std::filesystem::path(LOOM_SOURCE_DIR) / "tests/fixtures/text/punkt.json");
    return nlohmann::json::parse(in);
  }();
  return json;
}

std::u32string code_points(const std::string& text) {
  std::u32string out;
  for (size_t pos = 0; pos < text.size();) out.push_back(loom::text::next_code_point(text, pos));
  return out;
}

Spans spans(const nlohmann::json& list) {
  Spans out;
  for (const auto& span : list) out.emplace_back(span[0].get<size_t>(), span[1].get<size_t>());
  return out;
}

TEST(Punkt, SpansEqualBothNltkReleases) {
  EXPECT_EQ(fixture()["reference"]["nltk38"], "3.8.1");
  EXPECT_EQ(fixture()["reference"]["nltk310"], "3.10.4");
  size_t cases = 0, differ = 0;
  for (const auto& c : fixture()["cases"]) {
    const std::u32string text = code_points(c["text"].get<std::string>());
    SCOPED_TRACE(c["text"].dump());
    EXPECT_EQ(loom::text::punkt_spans(text, loom::text::kPunktNltk381), spans(c["nltk38"]));
    EXPECT_EQ(loom::text::punkt_spans(text, loom::text::kPunktNltk3104), spans(c["nltk310"]));
    differ += c["nltk38"] != c["nltk310"];
    ++cases;
  }
  EXPECT_GE(cases, 600u);  // 15 crafted, 600 random
  EXPECT_GE(differ, 6u);  // the options are exercised both ways
}

TEST(Punkt, SentencesAreTheSpansText) {
  const std::string text = "He said “Stop.” Then he left.  ";
  EXPECT_EQ(loom::text::punkt_sentences(text, loom::text::kPunktNltk3104),
            (std::vector<std::string>{"He said “Stop.”", "Then he left."}));
  EXPECT_EQ(loom::text::punkt_sentences(text, loom::text::kPunktNltk381),
            (std::vector<std::string>{"He said “Stop.” Then he left."}));
  EXPECT_TRUE(loom::text::punkt_sentences("   ", loom::text::kPunktNltk3104).empty());
  EXPECT_EQ(loom::text::punkt_sentences("a\xff. B", loom::text::kPunktNltk3104),
            (std::vector<std::string>{"a\xEF\xBF\xBD.", "B"}));
}

}  // namespace
