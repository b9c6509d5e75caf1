// Retrieval of one sample (docs/rag.md): chunk the context (chunker.h), score every chunk against the question
// (BM25 over words, or cosine similarity of embeddings from an endpoint or, for contriever, a local BERT
// encoder's mean-pooled last hidden states), keep the num_chunks best and join them with single spaces
// (LOOM-Scope's update_context), best first or in document order.
#pragma once

#include "rag/rag_config.h"

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace loom::text {
class Tokenizer;
}

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

class TextEmbedder;

// The job's retriever: bm25; embedding through one EmbeddingClient kept for every sample (no request for a context
// without chunks); contriever and llamaindex through the local encoder (text_embedder.h), loaded once. llamaindex
// chunks with LlamaIndex's SentenceSplitter (sentence_splitter.h; chunk_size and overlap in tokens of
// chunk_tokenizer's or model's tokenizer.json) and puts query_instruction before the question, or, with base_url,
// embeds through the EmbeddingClient (the question as it is; model is then the served name). Throws EmbeddingError
// when the endpoint fails (embedding_client.h); the constructor throws when the encoder cannot load.
class Retriever {
 public:
  explicit Retriever(RagConfig config);
  ~Retriever();
  Retrieved retrieve(std::string_view context, std::string_view question);
  const RagConfig& config() const { return config_; }
  // The context's chunks as this method cuts them (LOOM-Scope's chunker, or LlamaIndex's SentenceSplitter).
  std::vector<std::string> chunks(std::string_view context) const;

 private:
  RagConfig config_;
  std::unique_ptr<TextEmbedder> embedder_;
  std::unique_ptr<text::Tokenizer> chunk_tokenizer_;  // method llamaindex: counts the SentenceSplitter's tokens
};

}  // namespace loom::rag
