// NLTK's PunktSentenceTokenizer() with empty parameters (no abbreviations, collocations, sentence starters or
// orthographic statistics), which LlamaIndex's SentenceSplitter uses to cut sentences (llama_index.core
// utils.GlobalsHelper.punkt_tokenizer; nltk 3.10 nltk/tokenize/punkt.py, read for its rules): candidate breaks are
// . ? ! followed by other punctuation or by whitespace and a token; a candidate is a break when Punkt's annotation
// of the word before it, the mark and the token after marks a sentence break that is not the last token (a word
// ending in "." is a break unless it is an ellipsis, or an initial or a number before a lowercase word or
// punctuation, or an initial before a capitalised word); closing quotes and brackets after a break are moved into
// the sentence before it. Offsets are in code points of the text.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace loom::rag {

// span_tokenize(text): the sentences' [begin, end) code point offsets.
std::vector<std::pair<size_t, size_t>> punkt_spans(const std::u32string& text);

}  // namespace loom::rag
