#include "rag/punkt.h"

#include "rag/char_classes.h"

#include <utf8proc.h>

#include <optional>

namespace loom::rag {
namespace {

using Text = std::u32string;

utf8proc_category_t category(char32_t c) { return utf8proc_category(static_cast<utf8proc_int32_t>(c)); }

bool is_upper(char32_t c) { return category(c) == UTF8PROC_CATEGORY_LU; }  // str.isupper of one character
bool is_lower(char32_t c) { return category(c) == UTF8PROC_CATEGORY_LL; }

// Python's \w minus \d ([^\W\d]): letters, the numerics that are not decimal digits, and "_".
bool is_word_not_digit(char32_t c) {
  if (c == '_') return true;
  switch (category(c)) {
    case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT: case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO: case UTF8PROC_CATEGORY_NL: case UTF8PROC_CATEGORY_NO:
      return true;
    default:
      return false;
  }
}

bool is_sent_end(char32_t c) { return c == '.' || c == '?' || c == '!'; }

// _re_non_word_chars: characters that cannot appear within words.
bool is_non_word(char32_t c) {
  switch (c) {
    case ')': case '"': case ';': case '}': case ']': case '*': case ':': case '@': case '\'': case '(': case '{':
    case '[': case 0x2018: case 0x2019: case 0x201C: case 0x201D: case 0xAB: case 0xBB: case '?': case '!':
      return true;
    default:
      return false;
  }
}

// _re_word_start excludes these from starting a word token.
bool starts_word(char32_t c) {
  switch (c) {
    case '(': case '"': case '`': case '{': case '[': case ':': case ';': case '&': case '#': case '*': case '@':
    case ')': case '}': case ']': case '-': case ',':
      return false;
    default:
      return true;
  }
}

// _re_multi_char_punct at `p`: -{2,} | \.{2,} | (?:\.\s){2,}\. ; the end of the match, or nullopt.
std::optional<size_t> multi_char_at(const Text& s, size_t p) {
  size_t e = p;
  while (e < s.size() && s[e] == '-') ++e;
  if (e - p >= 2) return e;
  e = p;
  while (e < s.size() && s[e] == '.') ++e;
  if (e - p >= 2) return e;
  size_t pairs = 0;
  e = p;
  while (e + 1 < s.size() && s[e] == '.' && is_python_space(s[e + 1])) {
    e += 2;
    ++pairs;
  }
  // Greedy (?:\.\s){2,} backs off until a "." follows.
  while (pairs >= 2) {
    if (e < s.size() && s[e] == '.') return e + 1;
    e -= 2;
    --pairs;
  }
  return std::nullopt;
}

// The lookahead that ends a word token at `e`.
bool word_ends_at(const Text& s, size_t e) {
  if (e == s.size() || is_python_space(s[e]) || is_non_word(s[e]) || multi_char_at(s, e)) return true;
  if (s[e] != ',') return false;
  const size_t n = e + 1;
  return n == s.size() || is_python_space(s[n]) || is_non_word(s[n]) || multi_char_at(s, n).has_value();
}

// PunktLanguageVars.word_tokenize: findall of the word tokenizer regex on one line.
std::vector<Text> word_tokenize(const Text& line) {
  std::vector<Text> out;
  size_t p = 0;
  while (p < line.size()) {
    if (is_python_space(line[p])) {
      ++p;
      continue;
    }
    size_t end = p + 1;
    if (const auto multi = multi_char_at(line, p)) {
      end = *multi;
    } else if (starts_word(line[p])) {
      end = p + 1;
      while (!word_ends_at(line, end)) ++end;  // \S+? up to the first place a word may end
    }
    out.push_back(line.substr(p, end - p));
    p = end;
  }
  return out;
}

struct Token {
  Text tok;
  Text type;  // lowercased, a number → "##number##"
  bool period_final = false;
  bool sentbreak = false;
  bool abbr = false;
  bool ellipsis = false;
};

bool is_numeric_token(const Text& t) {  // ^-?[\.,]?\d[\d,\.-]*\.?$
  size_t i = 0;
  if (i < t.size() && t[i] == '-') ++i;
  if (i < t.size() && (t[i] == '.' || t[i] == ',')) ++i;
  if (i >= t.size() || !is_python_digit(t[i])) return false;
  ++i;
  while (i < t.size() && (is_python_digit(t[i]) || t[i] == ',' || t[i] == '.' || t[i] == '-')) ++i;
  return i == t.size();  // the optional final "." is covered by the class above
}

Token make_token(const Text& tok) {
  Token t;
  t.tok = tok;
  if (is_numeric_token(tok)) {
    t.type = U"##number##";
  } else {
    for (char32_t c : tok) t.type += static_cast<char32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(c)));
  }
  t.period_final = !tok.empty() && tok.back() == '.';
  return t;
}

Text type_no_period(const Token& t) {
  if (t.type.size() > 1 && t.type.back() == '.') return t.type.substr(0, t.type.size() - 1);
  return t.type;
}

bool is_initial(const Token& t) { return t.tok.size() == 2 && is_word_not_digit(t.tok[0]) && t.tok[1] == '.'; }

bool is_ellipsis(const Text& tok) {  // \.\.+$ matched at the start
  if (tok.size() < 2) return false;
  for (char32_t c : tok) {
    if (c != '.') return false;
  }
  return true;
}

// _ortho_heuristic with empty orthographic statistics: false before punctuation or a lowercase word, else unknown.
enum class Ortho { kFalse, kUnknown };
Ortho ortho_heuristic(const Token& t) {
  if (t.tok.size() == 1 && (t.tok[0] == ';' || t.tok[0] == ':' || t.tok[0] == ',' || t.tok[0] == '.' ||
                            t.tok[0] == '!' || t.tok[0] == '?'))
    return Ortho::kFalse;
  if (!t.tok.empty() && is_lower(t.tok[0])) return Ortho::kFalse;
  return Ortho::kUnknown;
}

void first_pass(Token& t) {
  if (t.tok.size() == 1 && is_sent_end(t.tok[0])) {
    t.sentbreak = true;
  } else if (is_ellipsis(t.tok)) {
    t.ellipsis = true;
  } else if (t.period_final && !(t.tok.size() >= 2 && t.tok[t.tok.size() - 2] == '.')) {
    t.sentbreak = true;  // no abbreviation is known
  }
}

void second_pass(Token& t1, const Token& t2) {
  if (!t1.period_final) return;
  const bool initial = is_initial(t1);
  // Abbreviations and ellipses: the orthographic heuristic never says "sentence starter" without statistics.
  if (initial || type_no_period(t1) == U"##number##") {
    const Ortho ortho = ortho_heuristic(t2);
    if (ortho == Ortho::kFalse) {
      t1.sentbreak = false;
      t1.abbr = true;
      return;
    }
    if (initial && !t2.tok.empty() && is_upper(t2.tok[0])) {
      t1.sentbreak = false;
      t1.abbr = true;
    }
  }
}

// text_contains_sentbreak: a sentence break that is not on the last token.
bool contains_sentbreak(const Text& text) {
  std::vector<Token> tokens;
  size_t begin = 0;
  while (begin <= text.size()) {
    size_t end = text.find(U'\n', begin);
    if (end == Text::npos) end = text.size();
    for (const Text& tok : word_tokenize(text.substr(begin, end - begin))) tokens.push_back(make_token(tok));
    begin = end + 1;
  }
  for (Token& t : tokens) first_pass(t);
  for (size_t i = 0; i + 1 < tokens.size(); ++i) second_pass(tokens[i], tokens[i + 1]);
  bool found = false;
  for (const Token& t : tokens) {
    if (found) return true;
    if (t.sentbreak) found = true;
  }
  return false;
}

struct EndContext {
  size_t mark = 0;           // the . ? ! (match.start(); match.end() = mark + 1)
  size_t after_end = 0;      // end of after_tok
  std::optional<size_t> next_tok;  // start of next_tok when after_tok is whitespace + token
};

// period_context_re().finditer: a sentence-end character followed by a non-word character, or by whitespace and a
// token.
std::vector<EndContext> period_contexts(const Text& s) {
  std::vector<EndContext> out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (!is_sent_end(s[i])) continue;
    const size_t n = i + 1;
    if (n < s.size() && is_non_word(s[n])) {
      out.push_back({i, n + 1, std::nullopt});
      continue;
    }
    size_t w = n;
    while (w < s.size() && is_python_space(s[w])) ++w;
    if (w == n || w == s.size()) continue;
    size_t e = w;
    while (e < s.size() && !is_python_space(s[e])) ++e;
    out.push_back({i, e, w});
  }
  return out;
}

bool is_ascii_whitespace(char32_t c) {  // string.whitespace
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == 0x0B || c == 0x0C;
}

// re_boundary_realignment.match(text[begin:end]): closing quotes/brackets, lazily, then whitespace, "--" or the end.
std::optional<std::pair<size_t, size_t>> realignment(const Text& s, size_t begin, size_t end) {
  const auto closing = [](char32_t c) {
    return c == '"' || c == '\'' || c == ')' || c == ']' || c == '}' || c == 0x2018 || c == 0x2019 || c == 0x201C ||
           c == 0x201D || c == 0xAB || c == 0xBB;
  };
  for (size_t q = begin + 1; q <= end && closing(s[q - 1]); ++q) {
    if (q < end && is_python_space(s[q])) {
      size_t w = q;
      while (w < end && is_python_space(s[w])) ++w;
      return std::make_pair(q - begin, w - begin);  // (length of the quotes, match length)
    }
    if (q + 1 < end && s[q] == '-' && s[q + 1] == '-') return std::make_pair(q - begin, q - begin);
    if (q == end || s[q] == '\n') return std::make_pair(q - begin, q - begin);  // $ (MULTILINE)
  }
  return std::nullopt;
}

size_t rstripped_length(const Text& s) {
  size_t n = s.size();
  while (n > 0 && is_python_space(s[n - 1])) --n;
  return n;
}

}  // namespace

std::vector<std::pair<size_t, size_t>> punkt_spans(const Text& text) {
  // _match_potential_end_contexts: each candidate with the word before it, dropping a candidate whose word
  // overlaps the next candidate's.
  struct Candidate {
    EndContext match;
    size_t word_begin;
  };
  std::vector<Candidate> candidates;
  std::optional<Candidate> previous;
  size_t previous_begin = 0, previous_end = 0;
  for (const EndContext& match : period_contexts(text)) {
    size_t last_space = 0;  // _get_last_whitespace_index over text[previous_end:match.start]
    for (size_t i = match.mark; i > previous_end; --i) {
      if (is_ascii_whitespace(text[i - 1])) {
        last_space = i - 1 - previous_end;
        break;
      }
    }
    const size_t word_begin = last_space != 0 ? last_space + previous_end + 1 : previous_begin;
    if (previous && previous_end <= word_begin) candidates.push_back(*previous);
    previous = Candidate{match, word_begin};
    previous_begin = word_begin;
    previous_end = match.mark;
  }
  if (previous) candidates.push_back(*previous);

  // _slices_from_text
  std::vector<std::pair<size_t, size_t>> slices;
  size_t last_break = 0;
  for (const Candidate& c : candidates) {
    const Text context = text.substr(c.word_begin, c.match.after_end - c.word_begin);
    if (!contains_sentbreak(context)) continue;
    slices.emplace_back(last_break, c.match.mark + 1);
    last_break = c.match.next_tok ? *c.match.next_tok : c.match.mark + 1;
  }
  slices.emplace_back(last_break, rstripped_length(text));

  // _realign_boundaries
  std::vector<std::pair<size_t, size_t>> out;
  size_t realign = 0;
  for (size_t i = 0; i < slices.size(); ++i) {
    const size_t begin = slices[i].first + realign;
    const size_t end = slices[i].second;
    const bool nonempty = end > begin;  // text[slice] is non-empty
    if (i + 1 == slices.size()) {
      if (nonempty) out.emplace_back(begin, end);
      continue;
    }
    const auto m = realignment(text, slices[i + 1].first, std::max(slices[i + 1].first, slices[i + 1].second));
    if (m) {
      out.emplace_back(begin, slices[i + 1].first + m->first);
      realign = m->second;
    } else {
      realign = 0;
      if (nonempty) out.emplace_back(begin, end);
    }
  }
  return out;
}

}  // namespace loom::rag
