#include "rag/retriever.h"

#include "rag/bm25.h"
#include "rag/chunker.h"
#include "rag/embedding_client.h"
#include "rag/words.h"

#include <algorithm>

namespace loom::rag {

Retrieved select_chunks(const std::vector<std::string>& chunks, const std::vector<double>& scores,
                        const RagConfig& config) {
  Retrieved out;
  out.total_chunks = chunks.size();
  out.chunk_ids = top_n(scores, static_cast<std::size_t>(std::max(config.num_chunks, 0)));
  if (config.order == "document") std::sort(out.chunk_ids.begin(), out.chunk_ids.end());
  for (std::size_t i = 0; i < out.chunk_ids.size(); ++i) {
    if (i > 0) out.context += ' ';
    out.context += chunks[out.chunk_ids[i]];
  }
  return out;
}

Retrieved retrieve_bm25(std::string_view context, std::string_view question, const RagConfig& config) {
  const std::vector<std::string> chunks = chunk_text(context, ChunkOptions{config.chunk_size, config.overlap});
  std::vector<std::vector<std::string>> documents;
  documents.reserve(chunks.size());
  for (const std::string& chunk : chunks) documents.push_back(split_words(chunk));
  const Bm25Okapi index(documents);
  return select_chunks(chunks, index.scores(split_words(question)), config);
}

Retriever::Retriever(RagConfig config) : config_(std::move(config)) {
  if (config_.method == "embedding") client_ = std::make_unique<EmbeddingClient>(config_);
}

Retriever::~Retriever() = default;

Retrieved Retriever::retrieve(std::string_view context, std::string_view question) {
  if (!client_) return retrieve_bm25(context, question, config_);
  std::vector<std::string> texts = chunk_text(context, ChunkOptions{config_.chunk_size, config_.overlap});
  if (texts.empty()) return select_chunks({}, {}, config_);
  const size_t chunks = texts.size();
  texts.emplace_back(question.empty() ? std::string(" ") : std::string(question));  // LOOM-Scope: " " for none
  const std::vector<std::vector<double>> vectors = client_->embed(texts);
  std::vector<double> scores(chunks);
  for (size_t i = 0; i < chunks; ++i) scores[i] = cosine_similarity(vectors.back(), vectors[i]);
  texts.pop_back();
  return select_chunks(texts, scores, config_);
}

}  // namespace loom::rag
