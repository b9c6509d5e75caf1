// The character classes of LOOM-Scope's regular expressions, as Python 3.11's `re` (Unicode 14) matches them on str:
// \s (str.isspace), \d (general category Nd), the CJK ideographs [\u4e00-\u9fa5] and ASCII letters [a-zA-Z].
#pragma once

namespace loom::rag {

bool is_python_space(char32_t c);
bool is_python_digit(char32_t c);
inline bool is_cjk(char32_t c) { return c >= 0x4E00 && c <= 0x9FA5; }
inline bool is_ascii_letter(char32_t c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
inline bool is_ascii_alnum(char32_t c) { return is_ascii_letter(c) || (c >= '0' && c <= '9'); }

}  // namespace loom::rag
