#include "rag/retriever.h"

#include "rag/bm25.h"
#include "rag/chunker.h"
#include "rag/embedding_client.h"
#include "rag/sentence_splitter.h"
#include "text/tokenizer.h"
#include "rag/text_embedder.h"
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
  const bool endpoint = config_.method == "embedding" || (config_.method == "llamaindex" && !config_.base_url.empty());
  if (endpoint) {
    embedder_ = std::make_unique<EmbeddingClient>(config_);
  } else if (config_.method == "contriever" || config_.method == "llamaindex") {
    embedder_ = make_local_embedder(config_);
  }
  if (config_.method == "llamaindex")
    chunk_tokenizer_ = text::load_tokenizer(config_.chunk_tokenizer.empty() ? config_.model : config_.chunk_tokenizer);
}

std::vector<std::string> Retriever::chunks(std::string_view context) const {
  if (!chunk_tokenizer_) return chunk_text(context, ChunkOptions{config_.chunk_size, config_.overlap});
  const TokenCounter count = [this](const std::string& text) {
    return chunk_tokenizer_->encode(text, /*add_special_tokens=*/false).size();
  };
  return sentence_split(context, SentenceSplitterOptions{config_.chunk_size, config_.overlap}, count);
}

Retriever::~Retriever() = default;

Retrieved Retriever::retrieve(std::string_view context, std::string_view question) {
  if (!embedder_) return retrieve_bm25(context, question, config_);
  std::vector<std::string> texts = chunks(context);
  if (texts.empty()) return select_chunks({}, {}, config_);
  const size_t count = texts.size();
  // LOOM-Scope's openai retriever sends " " for an empty question; its contriever encodes the question as it is;
  // LlamaIndex's HuggingFaceEmbedding puts the query instruction first.
  if (config_.method == "llamaindex") {
    texts.push_back((config_.base_url.empty() ? config_.query_instruction : std::string()) + std::string(question));
  } else {
    texts.emplace_back(question.empty() && config_.method == "embedding" ? std::string(" ") : std::string(question));
  }
  const std::vector<std::vector<double>> vectors = embedder_->embed(texts);
  std::vector<double> scores(count);
  for (size_t i = 0; i < count; ++i) scores[i] = cosine_similarity(vectors.back(), vectors[i]);
  texts.pop_back();
  return select_chunks(texts, scores, config_);
}

}  // namespace loom::rag
