// src/rag against tests/fixtures/rag (written by tools/fixtures/make_rag_fixtures.py): the chunker equals LOOM-Scope's
// chunk_text on every case, the words equal the script's split_words, and BM25 scores equal rank_bm25's BM25Okapi.
#include "rag/bm25.h"
#include "rag/chunker.h"
#include "rag/retriever.h"
#include "rag/words.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>
#include <string>
#include <vector>

namespace loom::rag {
namespace {

std::vector<nlohmann::json> read_cases(const std::string& name) {
  std::ifstream in(std::string(LOOM_SOURCE_DIR) + "/tests/fixtures/rag/" + name);
  EXPECT_TRUE(in) << name;
  std::vector<nlohmann::json> cases;
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) cases.push_back(nlohmann::json::parse(line));
  return cases;
}

TEST(Chunker, EqualsLoomScopeOnEveryFixture) {
  const auto cases = read_cases("chunker.jsonl");
  ASSERT_GE(cases.size(), 80u);
  for (const auto& c : cases) {
    const ChunkOptions options{c["chunk_size"].get<int>(), c["overlap"].get<int>()};
    EXPECT_EQ(chunk_text(c["text"].get<std::string>(), options), c["chunks"].get<std::vector<std::string>>())
        << c["name"] << " chunk_size " << options.chunk_size << " overlap " << options.overlap;
  }
}

TEST(Chunker, RefusesBadSizes) {
  EXPECT_THROW(chunk_text("a.", ChunkOptions{0, 0}), std::invalid_argument);
  EXPECT_THROW(chunk_text("a.", ChunkOptions{4, 4}), std::invalid_argument);
}

TEST(Chunker, CountsCjkWordsAndNumbers) {
  EXPECT_EQ(count_chunk_tokens("中文 abc 123 x1"), 6);  // 中, 文, abc, 123, x, 1
}

TEST(Bm25, WordsAndScoresEqualRankBm25) {
  const auto cases = read_cases("bm25.jsonl");
  ASSERT_GE(cases.size(), 30u);
  double worst = 0;
  for (const auto& c : cases) {
    std::vector<std::vector<std::string>> documents;
    for (const auto& chunk : c["chunks"]) documents.push_back(split_words(chunk.get<std::string>()));
    ASSERT_EQ(nlohmann::json(documents), c["words"]) << c["name"];
    const std::vector<std::string> query = split_words(c["question"].get<std::string>());
    ASSERT_EQ(nlohmann::json(query), c["query_words"]) << c["name"];
    const std::vector<double> scores = Bm25Okapi(documents).scores(query);
    const auto expected = c["scores"].get<std::vector<double>>();
    ASSERT_EQ(scores.size(), expected.size());
    for (size_t i = 0; i < scores.size(); ++i) {
      const double error = std::abs(scores[i] - expected[i]) / std::max(1.0, std::abs(expected[i]));
      worst = std::max(worst, error);
      EXPECT_LE(error, 1e-12) << c["name"] << " chunk " << i;
    }
  }
  std::printf("BM25 scores: worst relative error against rank_bm25 %.3g over %zu cases\n", worst, cases.size());
}

TEST(Bm25, NegativeIdfGetsTheEpsilonFloor) {
  // "a" is in 2 of 3 documents: idf ln(1.5/2.5) < 0 is replaced by 0.25 x the mean idf.
  const Bm25Okapi index({{"a", "b"}, {"a", "c"}, {"d"}});
  const std::vector<double> scores = index.scores({"a"});
  EXPECT_GT(scores[0], 0);
  EXPECT_DOUBLE_EQ(scores[0], scores[1]);
  EXPECT_EQ(scores[2], 0);
}

TEST(Retriever, KeepsTheBestChunksBestFirstOrInDocumentOrder) {
  const std::vector<std::string> chunks = {"c0", "c1", "c2", "c3"};
  RagConfig config;
  config.num_chunks = 2;
  Retrieved best = select_chunks(chunks, {0.1, 0.9, 0.1, 0.5}, config);
  EXPECT_EQ(best.chunk_ids, (std::vector<std::size_t>{1, 3}));
  EXPECT_EQ(best.context, "c1 c3");
  EXPECT_EQ(best.total_chunks, 4u);
  config.num_chunks = 3;  // ties in document order
  EXPECT_EQ(select_chunks(chunks, {0.1, 0.9, 0.1, 0.5}, config).chunk_ids, (std::vector<std::size_t>{1, 3, 0}));
  config.order = "document";
  Retrieved ordered = select_chunks(chunks, {0.1, 0.9, 0.1, 0.5}, config);
  EXPECT_EQ(ordered.chunk_ids, (std::vector<std::size_t>{0, 1, 3}));
  EXPECT_EQ(ordered.context, "c0 c1 c3");
}

TEST(Retriever, Bm25FindsTheSentenceThatAnswers) {
  RagConfig config;
  config.chunk_size = 8;
  config.num_chunks = 1;
  const Retrieved r = retrieve_bm25(
      "The sky is blue today. Grass grows in spring. The special magic number for Paris is 4512. Rivers flow.",
      "What is the special magic number for Paris?", config);
  EXPECT_EQ(r.context, "The special magic number for Paris is 4512.");
  EXPECT_EQ(r.chunk_ids, (std::vector<std::size_t>{2}));
  EXPECT_EQ(r.total_chunks, 4u);
}

}  // namespace
}  // namespace loom::rag
