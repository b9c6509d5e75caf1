// LlamaIndex's SentenceSplitter and NLTK's untrained Punkt (src/rag/sentence_splitter.h, src/text/punkt.h) against
// the libraries themselves: tests/fixtures/rag/llamaindex.json from tools/fixtures/make_llamaindex_fixtures.py
// (llama-index-core 0.14.25 and nltk 3.10.4 run unchanged; tokens counted with tests/fixtures/rag/tiny-bert's
// tokenizer.json, as the fixture passes it to SentenceSplitter).
#include "rag/sentence_splitter.h"
#include "text/punkt.h"
#include "text/tokenizer.h"
#include "text/utf8.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <stdexcept>

namespace {

const std::filesystem::path kRepo = LOOM_SOURCE_DIR;

const nlohmann::json& fixture() {
  static const nlohmann::json json = [] {
    std::ifstream in(kRepo / "tests/fixtures/rag/llamaindex.json");
    return nlohmann::json::parse(in);
  }();
  return json;
}

std::u32string code_points(const std::string& text) {
  std::u32string out;
  size_t pos = 0;
  while (pos < text.size()) out.push_back(loom::text::next_code_point(text, pos));
  return out;
}

TEST(Punkt, SpansEqualNltk) {
  size_t cases = 0;
  for (const auto& c : fixture()["punkt"]) {
    const std::string text = c["text"].get<std::string>();
    std::vector<std::pair<size_t, size_t>> want;
    for (const auto& span : c["spans"]) want.emplace_back(span[0].get<size_t>(), span[1].get<size_t>());
    EXPECT_EQ(loom::text::punkt_spans(code_points(text), loom::text::kPunktNltk3104), want) << text;
    ++cases;
  }
  EXPECT_GE(cases, 70u);
}

TEST(SentenceSplitter, ChunksEqualLlamaIndex) {
  const auto tokenizer = loom::text::load_tokenizer(kRepo / "tests/fixtures/rag/tiny-bert");
  const loom::rag::TokenCounter count = [&](const std::string& text) {
    return tokenizer->encode(text, /*add_special_tokens=*/false).size();
  };
  size_t cases = 0, chunks = 0;
  for (const auto& c : fixture()["splitter"]) {
    const std::string text = c["text"].get<std::string>();
    const loom::rag::SentenceSplitterOptions options{c["chunk_size"].get<int>(), c["chunk_overlap"].get<int>()};
    if (!c["error"].is_null()) {
      EXPECT_THROW(loom::rag::sentence_split(text, options, count), std::runtime_error) << text;
      continue;
    }
    const auto want = c["chunks"].get<std::vector<std::string>>();
    EXPECT_EQ(loom::rag::sentence_split(text, options, count), want) << text;
    ++cases;
    chunks += want.size();
  }
  EXPECT_GE(cases, 70u);
  std::printf("SentenceSplitter: %zu texts, %zu chunks, all equal to llama-index-core's\n", cases, chunks);
}

TEST(SentenceSplitter, OneCharacterOverTheChunkSizeIsAnError) {
  const loom::rag::TokenCounter count = [](const std::string& text) { return text.size() * 3; };
  EXPECT_THROW(loom::rag::sentence_split("abc def", {2, 0}, count), std::runtime_error);
  EXPECT_EQ(loom::rag::sentence_split("", {2, 0}, count), std::vector<std::string>{""});
}

}  // namespace
