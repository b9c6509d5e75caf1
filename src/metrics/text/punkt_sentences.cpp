#include "metrics/text/punkt_sentences.h"

#include "metrics/text/unicode_text.h"

#include <stdexcept>

namespace loom::metrics::text {
namespace {

using U32 = std::u32string;

// Punkt's _re_non_word_chars for the default sentence-end characters: )";}]*:@'({[ plus ? and !.
bool non_word(char32_t c) {
  switch (c) {
    case U')': case U'"': case U';': case U'}': case U']': case U'*': case U':': case U'@': case U'\'':
    case U'(': case U'{': case U'[': case U'?': case U'!':
      return true;
    default:
      return false;
  }
}

// _re_word_start excludes ("`{[:;&#*@)}]-, from starting a word token.
bool word_start(char32_t c) {
  switch (c) {
    case U'(': case U'"': case U'`': case U'{': case U'[': case U':': case U';': case U'&': case U'#': case U'*':
    case U'@': case U')': case U'}': case U']': case U'-': case U',':
      return false;
    default:
      return true;
  }
}

// string.whitespace (ASCII), what _get_last_whitespace_index looks for.
bool ascii_space(char32_t c) { return c == U' ' || c == U'\t' || c == U'\n' || c == U'\r' || c == 0x0B || c == 0x0C; }

bool sent_end(char32_t c) { return c == U'.' || c == U'?' || c == U'!'; }

// Length of _re_multi_char_punct  (?:\-{2,}|\.{2,}|(?:\.\s){2,}\.)  matched at p (0: none).
size_t multi_char(const U32& s, size_t p) {
  const size_t n = s.size();
  if (p >= n) return 0;
  if (s[p] == U'-' || s[p] == U'.') {
    size_t q = p;
    while (q < n && s[q] == s[p]) ++q;
    if (q - p >= 2) return q - p;
  }
  if (s[p] != U'.') return 0;
  size_t reps = 0;
  while (p + 2 * reps + 1 < n && s[p + 2 * reps] == U'.' && py_isspace(s[p + 2 * reps + 1])) ++reps;
  if (reps >= 2 && p + 2 * reps < n && s[p + 2 * reps] == U'.') return 2 * reps + 1;
  if (reps >= 3) return 2 * (reps - 1) + 1;  // backtrack one repetition: its '.' ends the match
  return 0;
}

// The lookahead that ends a word token at position e of the line.
bool word_end(const U32& s, size_t e) {
  const size_t n = s.size();
  if (e >= n) return true;
  if (py_isspace(s[e]) || non_word(s[e]) || multi_char(s, e) > 0) return true;
  if (s[e] == U',') {
    const size_t f = e + 1;
    return f >= n || py_isspace(s[f]) || non_word(s[f]) || multi_char(s, f) > 0;
  }
  return false;
}

// PunktLanguageVars.word_tokenize: re.findall of _word_tokenize_fmt over one line.
std::vector<U32> word_tokenize(const U32& s) {
  std::vector<U32> out;
  size_t p = 0;
  const size_t n = s.size();
  while (p < n) {
    if (const size_t len = multi_char(s, p)) {
      out.push_back(s.substr(p, len));
      p += len;
      continue;
    }
    if (py_isspace(s[p])) {
      ++p;
      continue;
    }
    if (word_start(s[p])) {
      size_t e = p + 1;
      while (!word_end(s, e)) ++e;  // \S+? : stops at the first end (whitespace ends it at the latest)
      out.push_back(s.substr(p, e - p));
      p = e;
      continue;
    }
    out.push_back(s.substr(p, 1));
    ++p;
  }
  return out;
}

bool py_isupper_char(char32_t c) { return py_lower(std::u32string(1, c)) != std::u32string(1, c); }
bool py_islower_char(char32_t c) {
  const std::string one = to_utf8(c);
  return py_upper(one) != one;
}

// PunktToken.is_initial: [^\W\d]\.$ matched at the start.
bool is_initial(const U32& tok) {
  return tok.size() == 2 && tok[1] == U'.' && py_is_word_char(tok[0]) && !py_is_decimal_digit(tok[0]);
}

// type_no_period == "##number##": the whole token matches ^-?[\.,]?\d[\d,\.-]*\.?$.
bool is_number(const U32& tok) {
  size_t i = 0;
  if (i < tok.size() && tok[i] == U'-') ++i;
  if (i < tok.size() && (tok[i] == U'.' || tok[i] == U',')) ++i;
  if (i >= tok.size() || !py_is_decimal_digit(tok[i])) return false;
  for (++i; i < tok.size(); ++i)
    if (!py_is_decimal_digit(tok[i]) && tok[i] != U',' && tok[i] != U'.' && tok[i] != U'-') return false;
  return true;
}

bool ends_with(const U32& s, const U32& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

// PunktSentenceTokenizer.text_contains_sentbreak with empty parameters.
bool contains_sentbreak(const U32& context) {
  std::vector<U32> tokens;
  size_t start = 0;
  for (;;) {
    const size_t nl = context.find(U'\n', start);
    const U32 line = context.substr(start, nl == U32::npos ? U32::npos : nl - start);
    bool blank = true;
    for (char32_t c : line) blank = blank && py_isspace(c);
    if (!blank)
      for (U32& tok : word_tokenize(line)) tokens.push_back(std::move(tok));
    if (nl == U32::npos) break;
    start = nl + 1;
  }
  for (size_t i = 0; i + 1 < tokens.size(); ++i) {
    const U32& tok = tokens[i];
    bool all_dots = tok.size() >= 2;
    for (char32_t c : tok) all_dots = all_dots && c == U'.';
    bool sentbreak = false;
    if (tok == U"." || tok == U"?" || tok == U"!") sentbreak = true;
    else if (all_dots) sentbreak = false;
    else if (ends_with(tok, U".") && !ends_with(tok, U"..")) sentbreak = true;
    if (sentbreak && ends_with(tok, U".") && (is_initial(tok) || is_number(tok))) {
      const U32& next = tokens[i + 1];
      const bool punct = next.size() == 1 && U32(U";:,.!?").find(next[0]) != U32::npos;
      if (punct || py_islower_char(next[0])) sentbreak = false;                       // ortho heuristic: False
      else if (is_initial(tok) && py_isupper_char(next[0])) sentbreak = false;       // "unknown", J. Bach
    }
    if (sentbreak) return true;  // a break followed by another token
  }
  return false;
}

struct Slice {
  size_t start, stop;
};

std::vector<Slice> slices_from_text(const U32& s) {
  struct Match {
    size_t at;           // the sentence-end character
    size_t after_end;    // end of after_tok
    size_t next_tok;     // start of next_tok, npos when the lookahead took the punctuation branch
  };
  std::vector<Match> matches;
  const size_t n = s.size();
  for (size_t p = 0; p < n; ++p) {
    if (!sent_end(s[p]) || p + 1 >= n) continue;
    if (non_word(s[p + 1])) {
      matches.push_back({p, p + 2, U32::npos});
      continue;
    }
    if (!py_isspace(s[p + 1])) continue;
    size_t q = p + 1;
    while (q < n && py_isspace(s[q])) ++q;
    if (q >= n) continue;
    size_t r = q;
    while (r < n && !py_isspace(s[r])) ++r;
    matches.push_back({p, r, q});
  }
  // _match_potential_end_contexts
  std::vector<std::pair<Match, U32>> contexts;
  Slice previous{0, 0};
  const Match* previous_match = nullptr;
  const auto context_of = [&](const Match& m, Slice word) {
    U32 text = word.start < word.stop ? s.substr(word.start, word.stop - word.start) : U32();
    return text + s.substr(m.at, m.after_end - m.at);
  };
  for (const Match& m : matches) {
    size_t index = 0;
    for (size_t i = m.at; i > previous.stop; --i)
      if (ascii_space(s[i - 1])) {
        index = i - 1 - previous.stop;
        break;
      }
    const size_t word_start_at = index ? index + previous.stop + 1 : previous.start;
    const Slice word{word_start_at, m.at};
    if (previous_match && previous.stop <= word.start) contexts.emplace_back(*previous_match, context_of(*previous_match, previous));
    previous_match = &m;
    previous = word;
  }
  if (previous_match) contexts.emplace_back(*previous_match, context_of(*previous_match, previous));

  std::vector<Slice> out;
  size_t last_break = 0;
  for (const auto& [m, context] : contexts) {
    if (!contains_sentbreak(context)) continue;
    out.push_back({last_break, m.at + 1});
    last_break = m.next_tok != U32::npos ? m.next_tok : m.at + 1;
  }
  size_t end = n;
  while (end > 0 && py_isspace(s[end - 1])) --end;
  out.push_back({last_break, end});
  return out;
}

// re_boundary_realignment  ["\')\]}]+?(?:\s+|(?=--)|$)  (MULTILINE) matched at the start of s[slice]: the length
// of the match and of its closing characters, or nothing.
bool realignment(const U32& s, Slice slice, size_t& closing, size_t& match_end) {
  const auto closer = [](char32_t c) { return c == U'"' || c == U'\'' || c == U')' || c == U']' || c == U'}'; };
  const size_t stop = slice.stop;
  for (size_t k = 1; slice.start + k <= stop && closer(s[slice.start + k - 1]); ++k) {
    const size_t at = slice.start + k;
    if (at < stop && py_isspace(s[at])) {
      size_t q = at;
      while (q < stop && py_isspace(s[q])) ++q;
      closing = k;
      match_end = q - slice.start;
      return true;
    }
    if ((at + 1 < stop && s[at] == U'-' && s[at + 1] == U'-') || at >= stop || s[at] == U'\n') {
      closing = k;
      match_end = k;
      return true;
    }
  }
  return false;
}

std::vector<Slice> realign(const U32& s, const std::vector<Slice>& slices) {
  std::vector<Slice> out;
  size_t shift = 0;
  for (size_t i = 0; i < slices.size(); ++i) {
    const Slice first{slices[i].start + shift, slices[i].stop};
    if (i + 1 == slices.size()) {
      if (first.start < first.stop) out.push_back(first);
      continue;
    }
    size_t closing = 0, match_end = 0;
    if (realignment(s, slices[i + 1], closing, match_end)) {
      out.push_back({first.start, slices[i + 1].start + closing});
      shift = match_end;
    } else {
      shift = 0;
      if (first.start < first.stop) out.push_back(first);
    }
  }
  return out;
}

bool cjk_punct(char32_t c) { return c == U'。' || c == U'；' || c == U'！' || c == U'？'; }

std::string strip_u32(const U32& s) {
  size_t b = 0, e = s.size();
  while (b < e && py_isspace(s[b])) ++b;
  while (e > b && py_isspace(s[e - 1])) --e;
  return to_utf8(U32(s.substr(b, e - b)));
}

}  // namespace

std::vector<std::string> punkt_sentences(std::string_view text) {
  const U32 s = to_u32(text);
  std::vector<std::string> out;
  for (const Slice& slice : realign(s, slices_from_text(s))) {
    out.push_back(to_utf8(U32(s.substr(slice.start, slice.stop - slice.start))));
  }
  return out;
}

std::vector<SentenceSpan> longcite_split_sentences(std::string_view text) {
  std::vector<U32> separated;
  for (const std::string& sentence : punkt_sentences(text)) {
    // re.split(r"([。；！？])", s): text pieces with each punctuation mark as its own piece.
    const U32 s = to_u32(sentence);
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
    if (!piece.empty()) pieces.push_back(to_utf8(piece));
  if (pieces.size() == 1) pieces = split_on(text, "\n\n");
  std::vector<SentenceSpan> out;
  size_t pos = 0;
  for (const std::string& piece : pieces) {
    std::string sentence = strip_u32(to_u32(piece));
    if (sentence.empty()) continue;
    const size_t at = text.find(sentence, pos);
    if (at == std::string_view::npos)
      throw std::runtime_error("LongBench-Cite sentence split: a sentence is not found in its text");
    out.push_back({sentence, at, at + sentence.size()});
    pos = at + sentence.size();
  }
  return out;
}

}  // namespace loom::metrics::text
