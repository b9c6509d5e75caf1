// UTF-8 helpers for the tokenizers: decoding and encoding code points, lossy repair of invalid input (the same
// replacement rule as Rust's String::from_utf8_lossy / Python's errors="replace"), and the Unicode character
// classes the `tokenizers` library uses (Rust char::is_whitespace, is_numeric, punctuation).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace loom::text {

// Decodes the code point at `pos` of a valid UTF-8 string and advances `pos` past it.
char32_t next_code_point(std::string_view s, size_t& pos);
// Number of bytes of the UTF-8 sequence starting with lead byte `b` (1 for continuation/invalid bytes).
size_t utf8_sequence_length(unsigned char b);
void append_utf8(std::string& out, char32_t cp);

bool is_valid_utf8(std::string_view s);
// Replaces each maximal invalid subsequence with U+FFFD.
std::string to_valid_utf8(std::string_view s);

// Rust char::is_whitespace (Unicode White_Space).
bool is_unicode_whitespace(char32_t c);
// Rust char::is_numeric (general categories Nd, Nl, No).
bool is_unicode_numeric(char32_t c);
// tokenizers' is_punc: ASCII punctuation or a Unicode P* category.
bool is_unicode_punctuation(char32_t c);

}  // namespace loom::text
