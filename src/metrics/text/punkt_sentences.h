// Sentence splitting as LongBench-Cite does it (THUDM/LongCite utils/retrieve.py text_split_by_punctuation @ d7d772e):
// nltk 3.8.1's PunktSentenceTokenizer() with no trained parameters (no abbreviations, collocations, sentence
// starters or orthographic context), each sentence split again after 。；！？, empty pieces dropped; a text that is
// still one piece is split on "\n\n" instead; every piece stripped, empty ones dropped, then located in the text in
// order (str.find from the end of the previous one). Re-implemented on code points with Python's Unicode classes
// (metrics/text/unicode_text.h): Punkt's regular expressions (word tokens, period contexts, boundary realignment)
// and its two annotation passes reduced to what an untrained tokenizer decides:
//   - a token that is ".", "?" or "!", or ends in one period (not ".."), is a sentence break;
//   - an initial ("J.") or a number ("3.") before punctuation or a lower-case word is not; an initial before an
//     upper-case word is not either;
//   - a candidate boundary counts when a break token is followed by another token in its context.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace loom::metrics::text {

struct SentenceSpan {
  std::string content;  // the stripped sentence (UTF-8)
  size_t start = 0;     // byte offsets into the text: text.substr(start, end - start) == content
  size_t end = 0;
};

// PunktSentenceTokenizer().tokenize(text) (realign_boundaries=True), as UTF-8 strings.
std::vector<std::string> punkt_sentences(std::string_view text);

// text_split_by_punctuation(text, return_dict=True).
std::vector<SentenceSpan> longcite_split_sentences(std::string_view text);

}  // namespace loom::metrics::text
