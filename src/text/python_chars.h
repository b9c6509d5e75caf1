// Python 3.11's predicates on one code point (Unicode 14), for re-implementations of Python text code that must
// decide as CPython does: str.isspace (= re's \s on str), re's \d (general category Nd) and \w (letters, numbers and
// "_"), str.isupper / str.islower (Unicode's Uppercase / Lowercase: Lu or Ll plus the Other_Uppercase /
// Other_Lowercase code points, e.g. "Ⅷ", "ⓐ", "ª"). \s and \d are exact tables of Unicode 14; \w and the letter
// categories come from utf8proc, whose Unicode version may differ by a release for code points assigned since.
// Also the classes of the third-party `regex` module (2026.12.2, measured against it), which some libraries compile
// their patterns with instead of `re`: its \w is Unicode's word class and its \s leaves out U+001C..U+001F.
#pragma once

namespace loom::text {

bool is_python_space(char32_t c);  // str.isspace(), re's \s
bool is_python_digit(char32_t c);  // re's \d (category Nd)
bool is_python_word(char32_t c);   // re's \w: categories L*, N* and "_"
bool is_python_upper(char32_t c);  // chr(c).isupper()
bool is_python_lower(char32_t c);  // chr(c).islower()

bool is_regex_module_space(char32_t c);  // regex's \s: str.isspace() less U+001C..U+001F
// regex's \w: categories L*, Nl, M*, Nd, Pc, the joiners U+200C/U+200D and the Other_Alphabetic symbols (circled and
// squared Latin letters); unlike re's, not No ("²", "½").
bool is_regex_module_word(char32_t c);

}  // namespace loom::text
