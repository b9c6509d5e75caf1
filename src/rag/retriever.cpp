#include "rag/retriever.h"

#include "rag/bm25.h"
#include "rag/chunker.h"
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

}  // namespace loom::rag
