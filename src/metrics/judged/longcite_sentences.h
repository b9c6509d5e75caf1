// LongBench-Cite's sentence split (THUDM/LongCite utils/retrieve.py text_split_by_punctuation @ d7d772e,
// return_dict=True, re-implemented): nltk 3.8.1's untrained Punkt (text/punkt.h with kPunktNltk381), each sentence
// split again after 。；！？ (re.split(r"([。；！？])") with each mark joined to the piece before it), empty pieces
// dropped; a text that is still one piece is split on "\n\n" instead; every piece stripped (str.strip), empty ones
// dropped, then located in the text in order (str.find from the end of the previous one).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace loom::metrics::judged {

struct LongCiteSentence {
  std::string content;  // the stripped sentence (UTF-8)
  size_t start = 0;     // byte offsets into the text: text.substr(start, end - start) == content
  size_t end = 0;
};

// text_split_by_punctuation(text, return_dict=True); offsets in bytes (upstream's are code points).
std::vector<LongCiteSentence> longcite_split_sentences(std::string_view text);

}  // namespace loom::metrics::judged
