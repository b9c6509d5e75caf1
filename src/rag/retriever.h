// Retrieval of one sample (docs/rag.md): chunk the context (chunker.h), score every chunk against the question
// (BM25 over words, or cosine similarity of embeddings), keep the num_chunks best and join them with single spaces
// (LOOM-Scope's update_context), best first or in document order.
#pragma once

#include "rag/rag_config.h"

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace loom::rag {

struct Retrieved {
  std::vector<std::size_t> chunk_ids;  // indices into the context's chunks, in the order they were joined
  std::size_t total_chunks = 0;        // chunks the context had
  std::string context;                 // the kept chunks joined by " "
};

// The chosen chunks of `chunks` given their scores (same length).
Retrieved select_chunks(const std::vector<std::string>& chunks, const std::vector<double>& scores,
                        const RagConfig& config);

// method bm25, whole: chunk, score with Bm25Okapi over split_words, select.
Retrieved retrieve_bm25(std::string_view context, std::string_view question, const RagConfig& config);

class EmbeddingClient;

// The job's retriever: bm25, or embedding through one EmbeddingClient kept for every sample (no request for a
// context without chunks). Throws EmbeddingError when the endpoint fails (embedding_client.h).
class Retriever {
 public:
  explicit Retriever(RagConfig config);
  ~Retriever();
  Retrieved retrieve(std::string_view context, std::string_view question);
  const RagConfig& config() const { return config_; }

 private:
  RagConfig config_;
  std::unique_ptr<EmbeddingClient> client_;
};

}  // namespace loom::rag
