// NLTK's Punkt sentence tokenizer (nltk/tokenize/punkt.py), untrained: PunktSentenceTokenizer() with empty
// PunktParameters (no abbreviation types, collocations, sentence starters or orthographic context), which is what
// LongCite's text_split_by_punctuation (nltk 3.8.1) and LlamaIndex's SentenceSplitter (GlobalsHelper.punkt_tokenizer,
// nltk 3.10.4 in its fixture) call. Its two passes reduce to these rules, on code points with Python's character
// classes (text/python_chars.h):
//   - a candidate break is ". ? !" followed by a non-word character, or by whitespace and a token;
//   - the candidate is a break when Punkt's annotation of the word before it, the mark and the token after marks a
//     sentence break on a token that is not the last: ".", "?" and "!" alone, or a word ending in one "." (not an
//     ellipsis "..") — except an initial ("J.") or a number ("3.") before punctuation or a lowercase word, or an
//     initial before an uppercase word;
//   - closing quotes and brackets after a break are moved into the sentence before it (realign_boundaries=True);
//   - the last sentence ends where the text's trailing whitespace starts; empty sentences are dropped.
// The two nltk releases differ for an untrained tokenizer in two ways, each an option: since nltk 3.9 the typographic
// quotes ‘ ’ “ ” « » are non-word characters and closing marks as " and ' are; nltk 3.10.4 compiles its patterns with
// the third-party `regex` module (nltk.redos), whose \s (in every pattern) and \w (in the initial rule [^\W\d])
// differ from re's on rare code points (text/python_chars.h). str methods (strip, isupper, islower) are Python's in
// both; \d is Unicode 14's Nd in both (the regex module knows a few newer digits).
// Not covered: trained parameters (nltk_data's punkt / punkt_tab models, PunktTrainer); no user here loads one.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace loom::text {

struct PunktOptions {
  // nltk >= 3.9: ‘ ’ “ ” « » in _re_non_word_chars and re_boundary_realignment; nltk <= 3.8: ASCII quotes only.
  bool typographic_quotes = true;
  // nltk 3.10.4: \s and \w as the `regex` module matches them; nltk <= 3.8: as `re` does.
  bool regex_module_classes = true;
};

// LongCite's pin (utils/retrieve.py).
inline constexpr PunktOptions kPunktNltk381{/*typographic_quotes=*/false, /*regex_module_classes=*/false};
// LlamaIndex's SentenceSplitter as its fixture ran it (tools/fixtures/make_llamaindex_fixtures.py).
inline constexpr PunktOptions kPunktNltk3104{/*typographic_quotes=*/true, /*regex_module_classes=*/true};

// span_tokenize(text): each sentence's [begin, end) in code points of `text`.
std::vector<std::pair<size_t, size_t>> punkt_spans(std::u32string_view text, const PunktOptions& options);

// tokenize(text): the sentences of UTF-8 `text` (invalid bytes decode to U+FFFD), as UTF-8.
std::vector<std::string> punkt_sentences(std::string_view text, const PunktOptions& options);

}  // namespace loom::text
