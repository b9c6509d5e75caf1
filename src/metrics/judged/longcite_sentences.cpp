#include "metrics/judged/longcite_sentences.h"

#include "metrics/text/unicode_text.h"
#include "text/punkt.h"

#include <stdexcept>

namespace loom::metrics::judged {
namespace {

using U32 = std::u32string;

bool cjk_punct(char32_t c) { return c == U'。' || c == U'；' || c == U'！' || c == U'？'; }

}  // namespace

std::vector<LongCiteSentence> longcite_split_sentences(std::string_view text) {
  std::vector<U32> separated;
  for (const std::string& sentence : loom::text::punkt_sentences(text, loom::text::kPunktNltk381)) {
    // re.split(r"([。；！？])", s): text pieces with each punctuation mark as its own piece.
    const U32 s = text::to_u32(sentence);
    size_t start = 0;
    for (size_t i = 0; i < s.size(); ++i)
      if (cjk_punct(s[i])) {
        separated.push_back(s.substr(start, i - start));
        separated.push_back(s.substr(i, 1));
        start = i + 1;
      }
    separated.push_back(s.substr(start));
  }
  for (size_t i = 1; i < separated.size(); ++i)
    if (!separated[i].empty() && cjk_punct(separated[i][0])) {
      separated[i - 1] += separated[i];
      separated[i].clear();
    }
  std::vector<std::string> pieces;
  for (const U32& piece : separated)
    if (!piece.empty()) pieces.push_back(text::to_utf8(piece));
  if (pieces.size() == 1) pieces = text::split_on(text, "\n\n");
  std::vector<LongCiteSentence> out;
  size_t pos = 0;
  for (const std::string& piece : pieces) {
    std::string sentence = text::py_strip(piece);
    if (sentence.empty()) continue;
    const size_t at = text.find(sentence, pos);
    if (at == std::string_view::npos)
      throw std::runtime_error("LongBench-Cite sentence split: a sentence is not found in its text");
    out.push_back({sentence, at, at + sentence.size()});
    pos = at + sentence.size();
  }
  return out;
}

}  // namespace loom::metrics::judged
