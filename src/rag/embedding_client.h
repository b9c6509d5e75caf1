// Embeddings from an OpenAI-compatible endpoint: POST <base_url>/embeddings {"model", "input": [texts]} → data[i].
// embedding, in batches of batch_size, through net::HttpClient with net::RetryPolicy (a timeout, a refused
// connection, 408, 429 and 5xx are retried with backoff, Retry-After honoured). The API key is read from the
// variable api_key_env names and sent as a Bearer token. A request that still fails, or an answer that is not a
// list of one equal-length vector per text, throws EmbeddingError with the reason (the sample's rows then fail).
#pragma once

#include "rag/rag_config.h"
#include "rag/text_embedder.h"

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace loom::net {
class HttpClient;
}

namespace loom::rag {

struct EmbeddingError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class EmbeddingClient final : public TextEmbedder {
 public:
  explicit EmbeddingClient(RagConfig config);
  ~EmbeddingClient() override;
  // One vector per text, in order.
  std::vector<std::vector<double>> embed(const std::vector<std::string>& texts) override;

 private:
  std::vector<std::vector<double>> embed_batch(const std::vector<std::string>& texts);
  RagConfig config_;
  std::string api_key_;
  std::unique_ptr<net::HttpClient> http_;
  unsigned long long jitter_state_ = 0x9E3779B97F4A7C15ull;
};

// Cosine similarity (0 when either vector is all zeros).
double cosine_similarity(const std::vector<double>& a, const std::vector<double>& b);

}  // namespace loom::rag
