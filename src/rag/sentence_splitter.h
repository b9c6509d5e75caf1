// LlamaIndex's SentenceSplitter (llama_index.core.node_parser.text.sentence, llama-index-core 0.14.25, read for its
// rules), which LOOM-Scope's llamaindex retriever gets from SimpleNodeParser.from_defaults(chunk_size,
// chunk_overlap). A text longer than chunk_size tokens is split by the first of these that cuts it: the paragraph
// separator "\n\n\n" (kept at the start of the next part), NLTK Punkt sentences (text/punkt.h, nltk 3.10); else, as
// sub-sentence parts, the regex [^,.;。？！]+[,.;。？！]?|[,.;。？！], the separator " ", characters —
// recursively until every part fits. Parts are merged greedily into chunks of at most chunk_size tokens; a new chunk
// starts with the last parts of the previous chunk that fit in chunk_overlap tokens (dropped again from the front
// while the next part does not fit); chunks are stripped and empty ones dropped. Tokens are counted by
// `count_tokens` (LlamaIndex: its global tokenizer, tiktoken's cl100k_base, unless another is given).
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace loom::rag {

struct SentenceSplitterOptions {
  int chunk_size = 1024;    // > 0
  int chunk_overlap = 200;  // >= 0, <= chunk_size
};

using TokenCounter = std::function<size_t(const std::string& text)>;

// The chunks of `text` (an empty text gives one empty chunk, as upstream). Throws std::runtime_error("Single token
// exceeded chunk size") when one character alone has more than chunk_size tokens, as upstream raises ValueError.
std::vector<std::string> sentence_split(std::string_view text, const SentenceSplitterOptions& options,
                                        const TokenCounter& count_tokens);

}  // namespace loom::rag
