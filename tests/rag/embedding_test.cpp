// Embedding retrieval (rag.method: embedding) against an OpenAI-compatible /v1/embeddings test double served by this
// binary over loopback (cpp-httplib): each text's embedding counts its words in 64 hashed buckets, so the chunk that
// shares the question's words wins. Also: the key and model are sent, 503 is retried, a dead endpoint and a garbage
// answer give the reason that becomes a failed row. And rag.method llamaindex with base_url: its chunks, the
// endpoint's embeddings.
#include "benchmarks/sample.h"
#include "rag/embedding_client.h"
#include "rag/retriever.h"
#include "rag/words.h"
#include "scheduler/retrieval_step.h"
#include "support/loopback_server.h"

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <stdlib.h>

namespace loom::rag {
namespace {

using json = nlohmann::json;

std::vector<double> bag_of_words(const std::string& text) {
  std::vector<double> vector(64, 0.0);
  for (const std::string& word : split_words(text)) vector[std::hash<std::string>{}(word) % 64] += 1;
  return vector;
}

class EmbeddingServer {
 public:
  // fail_first: answer 503 to that many requests first; garbage: answer HTML.
  explicit EmbeddingServer(int fail_first = 0, bool garbage = false)
      : server_("/v1/embeddings", [this, fail_first, garbage](const httplib::Request& req, httplib::Response& res) {
          const int hit = hits++;
          authorization = req.get_header_value("Authorization");
          if (hit < fail_first) {
            res.status = 503;
            res.set_header("Retry-After", "0");
            res.set_content("{\"error\": \"busy\"}", "application/json");
            return;
          }
          if (garbage) return res.set_content("<html>hi</html>", "text/html");
          const json body = json::parse(req.body);
          model = body.value("model", "");
          json data = json::array();
          for (size_t i = 0; i < body["input"].size(); ++i)
            data.push_back({{"object", "embedding"}, {"index", i}, {"embedding", bag_of_words(body["input"][i])}});
          batch_sizes.push_back(static_cast<int>(body["input"].size()));
          last_input = body["input"].back().get<std::string>();
          res.set_content(json{{"object", "list"}, {"data", data}}.dump(), "application/json");
        }) {}
  std::string base_url() const { return server_.base_url(); }

  std::atomic<int> hits{0};
  std::string authorization, model, last_input;
  std::vector<int> batch_sizes;

 private:
  test_support::LoopbackServer server_;  // last: stops before the fields above go
};

const char* kContext =
    "The sky is blue today. Grass grows in spring. The special magic number for Paris is 4512. Rivers flow.";

RagConfig embedding_config(const std::string& base_url) {
  RagConfig config;
  config.method = "embedding";
  config.base_url = base_url;
  config.model = "bag-of-words";
  config.chunk_size = 8;
  config.num_chunks = 1;
  config.batch_size = 2;
  config.timeout_s = 5;
  config.max_retries = 2;
  return config;
}

TEST(Embedding, TheChunkSharingTheQuestionsWordsWins) {
  EmbeddingServer server;
  ::setenv("LOOM_RAG_TEST_KEY", "sk-test", 1);
  RagConfig config = embedding_config(server.base_url());
  config.api_key_env = "LOOM_RAG_TEST_KEY";
  Retriever retriever(config);
  const Retrieved r = retriever.retrieve(kContext, "What is the special magic number for Paris?");
  EXPECT_EQ(r.context, "The special magic number for Paris is 4512.");
  EXPECT_EQ(r.chunk_ids, (std::vector<std::size_t>{2}));
  EXPECT_EQ(r.total_chunks, 4u);
  EXPECT_EQ(server.authorization, "Bearer sk-test");
  EXPECT_EQ(server.model, "bag-of-words");
  EXPECT_EQ(server.batch_sizes, (std::vector<int>{2, 2, 1}));  // 4 chunks + the question, 2 per request
}

// method llamaindex with base_url: LlamaIndex's SentenceSplitter chunks (tokens of the tiny BERT's tokenizer.json),
// the endpoint's embeddings, the question sent without the local encoder's query instruction.
TEST(Embedding, LlamaIndexChunksWithTheEndpointsEmbeddings) {
  EmbeddingServer server;
  RagConfig config = embedding_config(server.base_url());
  config.method = "llamaindex";
  config.chunk_tokenizer = std::string(LOOM_SOURCE_DIR) + "/tests/fixtures/rag/tiny-bert";
  config.chunk_size = 16;
  config.overlap = 4;
  Retriever retriever(config);
  const std::vector<std::string> chunks = retriever.chunks(kContext);
  ASSERT_GT(chunks.size(), 1u);
  const Retrieved r = retriever.retrieve(kContext, "What is the special magic number for Paris?");
  ASSERT_EQ(r.chunk_ids.size(), 1u);
  EXPECT_EQ(r.total_chunks, chunks.size());
  EXPECT_NE(chunks[r.chunk_ids[0]].find("Paris is 4512"), std::string::npos) << chunks[r.chunk_ids[0]];
  EXPECT_EQ(r.context, chunks[r.chunk_ids[0]]);
  EXPECT_EQ(server.last_input, "What is the special magic number for Paris?");
  EXPECT_EQ(server.model, "bag-of-words");
}

TEST(Embedding, BusyAnswersAreRetried) {
  EmbeddingServer server(/*fail_first=*/2);
  Retriever retriever(embedding_config(server.base_url()));
  EXPECT_EQ(retriever.retrieve(kContext, "magic number Paris").chunk_ids, (std::vector<std::size_t>{2}));
  EXPECT_EQ(server.hits.load(), 2 + 3);
}

TEST(Embedding, FailuresBecomeTheSamplesReason) {
  benchmarks::Sample sample;
  sample.retrieval = benchmarks::RetrievalSource{true, kContext, "magic number", "Context: ", "\nAnswer:"};
  {
    EmbeddingServer busy(/*fail_first=*/100);
    Retriever retriever(embedding_config(busy.base_url()));
    const std::string error = scheduler::apply_retrieval(retriever, sample);
    EXPECT_NE(error.find("retrieval (embedding) failed"), std::string::npos) << error;
    EXPECT_NE(error.find("HTTP 503"), std::string::npos) << error;
    EXPECT_NE(error.find("after 3 tries"), std::string::npos) << error;
  }
  {
    EmbeddingServer garbage(0, /*garbage=*/true);
    Retriever retriever(embedding_config(garbage.base_url()));
    const std::string error = scheduler::apply_retrieval(retriever, sample);
    EXPECT_NE(error.find("other than an OpenAI embeddings list"), std::string::npos) << error;
  }
  RagConfig dead = embedding_config("http://127.0.0.1:1/v1");
  dead.max_retries = 0;
  Retriever retriever(dead);
  const std::string error = scheduler::apply_retrieval(retriever, sample);
  EXPECT_NE(error.find("POST http://127.0.0.1:1/v1/embeddings"), std::string::npos) << error;
  EXPECT_TRUE(sample.prompt.empty());  // untouched: the rows fail with the reason instead
}

TEST(Embedding, AnEmptyContextAsksNothing) {
  Retriever retriever(embedding_config("http://127.0.0.1:1/v1"));
  const Retrieved r = retriever.retrieve("   ", "question");
  EXPECT_TRUE(r.chunk_ids.empty());
  EXPECT_EQ(r.context, "");
}

TEST(Embedding, CosineSimilarity) {
  EXPECT_DOUBLE_EQ(cosine_similarity({1, 0}, {2, 0}), 1.0);
  EXPECT_DOUBLE_EQ(cosine_similarity({1, 0}, {0, 3}), 0.0);
  EXPECT_DOUBLE_EQ(cosine_similarity({0, 0}, {1, 1}), 0.0);
}

}  // namespace
}  // namespace loom::rag
