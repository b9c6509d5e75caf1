// The character classes of LOOM-Scope's regular expressions, as Python 3.11's `re` (Unicode 14) matches them on str:
// \s (str.isspace) and \d (general category Nd) from text/python_chars.h, the CJK ideographs [\u4e00-\u9fa5] and
// ASCII letters [a-zA-Z].
#pragma once

#include "text/python_chars.h"

namespace loom::rag {

using text::is_python_digit;
using text::is_python_space;
inline bool is_cjk(char32_t c) { return c >= 0x4E00 && c <= 0x9FA5; }
inline bool is_ascii_letter(char32_t c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
inline bool is_ascii_alnum(char32_t c) { return is_ascii_letter(c) || (c >= '0' && c <= '9'); }

}  // namespace loom::rag
