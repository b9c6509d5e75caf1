// Python-compatible text primitives for the scorers. The official scorers are Python 3 programs that work on
// code points with Unicode-aware str methods and `re` classes; these helpers reproduce exactly those semantics
// (str.lower, str.isspace / str.split(), re's \w, \d and \s for str patterns, string.punctuation).
// Text enters and leaves as UTF-8; invalid bytes decode to U+FFFD.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace loom::metrics::text {

std::u32string to_u32(std::string_view utf8);
std::string to_utf8(std::u32string_view text);
std::string to_utf8(char32_t c);

// Python str.lower() (full lowercase mapping, including U+0130 -> "i̇" and the final-sigma rule).
std::u32string py_lower(std::u32string_view text);
std::string py_lower(std::string_view utf8);
// Python str.upper() (simple mapping plus the ß -> "SS" full mapping).
std::string py_upper(std::string_view utf8);
// ASCII-only lowercase (bytes A-Z).
std::string ascii_lower(std::string_view text);

bool py_isspace(char32_t c);          // str.isspace(), = re's \s for str patterns
bool py_is_word_char(char32_t c);     // re's \w for str patterns (letters, numbers, '_')
bool py_is_decimal_digit(char32_t c); // re's \d for str patterns (category Nd)
bool is_ascii_punctuation(char32_t c);  // Python string.punctuation
bool is_han(char32_t c);              // U+4E00..U+9FD5, jieba's Han range

// str.split() with no argument: split on runs of whitespace, no empty pieces.
std::vector<std::u32string> py_split(std::u32string_view text);
std::vector<std::string> py_split(std::string_view utf8);
// str.split(sep) with an explicit separator (empty pieces kept).
std::vector<std::string> split_on(std::string_view text, std::string_view sep);
// str.strip() with no argument (Unicode whitespace).
std::string py_strip(std::string_view utf8);
// str.strip(chars) / lstrip(chars) with an explicit ASCII character set.
std::string strip_chars(std::string_view text, std::string_view chars);
std::string lstrip_chars(std::string_view text, std::string_view chars);
// " ".join(s.split()).
std::string collapse_whitespace(std::string_view utf8);
// Every maximal run of re's \d (Unicode decimal digits), as UTF-8.
std::vector<std::string> find_digit_runs(std::string_view utf8);
// Replaces every occurrence of `from` by `to` (Python str.replace).
std::string replace_all(std::string_view text, std::string_view from, std::string_view to);
bool contains(std::string_view haystack, std::string_view needle);

}  // namespace loom::metrics::text
