// The words BM25 scores (docs/rag.md): each CJK ideograph (U+4E00..U+9FA5) is a word; otherwise a word is a maximal
// run of word characters: ASCII letters and digits, and every other code point that is not whitespace (Python's
// str.isspace), ASCII punctuation or a character of the punctuation blocks U+2000..U+206F, U+3000..U+303F and the
// fullwidth forms U+FF00..U+FF65 that are not letters or digits. ASCII letters, Latin-1 capitals (U+00C0..U+00DE
// but U+00D7) and Cyrillic capitals (U+0400..U+042F) are lowercased. tools/fixtures/rag_fixtures.py has the same rule.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace loom::rag {

std::vector<std::string> split_words(std::string_view text);

}  // namespace loom::rag
