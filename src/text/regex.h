// A compiled PCRE2 pattern (UTF + UCP, JIT when available) used by the Split pre-tokenizer and Replace normalizer.
// Patterns from tokenizer.json are written for Oniguruma; `Regex` adapts the few constructs whose meaning differs
// (\s also matches U+0085 there). find_all returns the non-overlapping matches, left to right, as byte ranges.
// A Regex is immutable after construction and safe to use from several threads.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace loom::text {

class Regex {
 public:
  // Throws std::invalid_argument with PCRE2's message when the pattern does not compile.
  explicit Regex(const std::string& pattern);
  ~Regex();
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;

  // Matches of a valid UTF-8 string as [begin, end) byte offsets; empty matches are skipped.
  void find_all(std::string_view text, std::vector<std::pair<size_t, size_t>>& matches) const;

 private:
  void* code_ = nullptr;  // pcre2_code_8*
  bool jit_ = false;
};

// Escapes `literal` so that it matches itself.
std::string regex_escape(std::string_view literal);

}  // namespace loom::text
