// LOOM-Scope's chunker (models/rag/bass_class.py, Base.chunk_text, loom-scope 0.8 on PyPI): the context is split into
// sentences after any of . ! ? 。 ！ ？ ； ; ： : or a newline (the whitespace after it is dropped), and sentences are
// packed greedily into chunks of at most chunk_size "tokens", where a token is a CJK ideograph (U+4E00..U+9FA5), a
// run of ASCII letters or a run of digits. A sentence longer than chunk_size is cut on those tokens. Each chunk has
// its whitespace runs collapsed to one space and a space put between a CJK ideograph and an ASCII letter or digit.
// overlap (an extension; 0 = upstream): a new chunk starts with the previous chunk's last whole sentences, as many as
// fit in `overlap` tokens and leave room for the next sentence. Parity: tests/rag (fixtures from
// tools/fixtures/rag_fixtures.py, which runs the upstream algorithm with Python's re).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace loom::rag {

struct ChunkOptions {
  int chunk_size = 512;  // > 0
  int overlap = 0;       // >= 0, < chunk_size
};

// The context's chunks in document order (none for an empty or all-whitespace context).
std::vector<std::string> chunk_text(std::string_view context, const ChunkOptions& options);

// LOOM-Scope's count_tokens: CJK ideographs + ASCII letter runs + digit runs.
int count_chunk_tokens(std::string_view text);

}  // namespace loom::rag
