// Pre-tokenizers of tokenizer.json ("pre_tokenizer" key): they cut normalized text into words that the model
// tokenizes independently, with the split rules of the `tokenizers` library (Isolated, Removed, MergedWithPrevious,
// MergedWithNext, Contiguous; invert). Supported types: Sequence, Split (String or Regex), ByteLevel, Metaspace,
// Digits, Whitespace, WhitespaceSplit, Punctuation, BertPreTokenizer. Other types → InputError naming the key.
#pragma once

#include <array>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "text/json_fields.h"

namespace loom::text {

class Regex;

// One word (or not yet split span) of the input. at_start: the span begins at the first byte of the input text
// (Metaspace's prepend_scheme "first" uses it).
struct Piece {
  std::string text;
  bool at_start = false;
};

class PreTokenizer {
 public:
  virtual ~PreTokenizer() = default;
  // Replaces `pieces` by their splits (empty splits are dropped).
  virtual void split(std::vector<Piece>& pieces) const = 0;
  // When this pre-tokenizer is exactly "split with a regex (Isolated, not inverted), then map every byte to its
  // byte-level character", returns that regex so the tokenizer can take a faster path; nullptr otherwise.
  virtual const Regex* byte_level_word_regex() const { return nullptr; }
};

std::unique_ptr<PreTokenizer> make_pre_tokenizer(const Json& spec, const JsonPath& path);

// GPT-2's byte-to-character table: byte b is written as the UTF-8 string byte_level_chars()[b].
const std::array<std::string, 256>& byte_level_chars();
// Maps every byte of `text` to its byte-level character.
std::string to_byte_level(std::string_view text);

}  // namespace loom::text
