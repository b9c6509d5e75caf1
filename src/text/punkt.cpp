#include "text/punkt.h"

#include "text/python_chars.h"
#include "text/utf8.h"

#include <algorithm>
#include <optional>

namespace loom::text {
namespace {

using Text = std::u32string;
using TextView = std::u32string_view;

bool is_typographic_quote(char32_t c) {  // ‘ ’ “ ” « »
  return c == 0x2018 || c == 0x2019 || c == 0x201C || c == 0x201D || c == 0xAB || c == 0xBB;
}

bool is_sent_end(char32_t c) { return c == '.' || c == '?' || c == '!'; }

// string.whitespace, what _get_last_whitespace_index looks for.
bool is_ascii_whitespace(char32_t c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == 0x0B || c == 0x0C;
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

struct Token {
  Text tok;
  bool sentbreak = false;
};

bool period_final(const Text& tok) { return !tok.empty() && tok.back() == '.'; }

// type_no_period == "##number##": _RE_NUMERIC ^-?[\.,]?\d[\d,\.-]*\.?$ replaced the lowercased token, or the token
// itself spells "##number##" (with a final period).
bool is_number_type(const Text& tok) {
  size_t i = 0;
  if (i < tok.size() && tok[i] == '-') ++i;
  if (i < tok.size() && (tok[i] == '.' || tok[i] == ',')) ++i;
  if (i < tok.size() && is_python_digit(tok[i])) {
    ++i;
    while (i < tok.size() && (is_python_digit(tok[i]) || tok[i] == ',' || tok[i] == '.' || tok[i] == '-')) ++i;
    if (i == tok.size()) return true;  // the optional final "." is covered by the class above
  }
  static constexpr char kNumber[] = "##number##";
  const size_t n = period_final(tok) ? tok.size() - 1 : tok.size();
  if (n != sizeof(kNumber) - 1) return false;
  for (size_t k = 0; k < n; ++k) {
    const char32_t c = tok[k] >= 'A' && tok[k] <= 'Z' ? tok[k] + ('a' - 'A') : tok[k];
    if (c != static_cast<char32_t>(kNumber[k])) return false;
  }
  return true;
}

bool is_ellipsis(const Text& tok) {  // \.\.+$ matched at the start
  return tok.size() >= 2 && std::all_of(tok.begin(), tok.end(), [](char32_t c) { return c == '.'; });
}

// _first_pass_annotation with no abbreviation types.
void first_pass(Token& t) {
  if (t.tok.size() == 1 && is_sent_end(t.tok[0])) {
    t.sentbreak = true;
  } else if (!is_ellipsis(t.tok) && period_final(t.tok) && !(t.tok.size() >= 2 && t.tok[t.tok.size() - 2] == '.')) {
    t.sentbreak = true;
  }
}

// _ortho_heuristic with no orthographic context: False before punctuation (";:,.!?" contains the token) or a
// lowercase word, else "unknown" (never True).
bool ortho_says_not_a_starter(const Token& t) {
  if (!t.tok.empty() && TextView(U";:,.!?").find(t.tok) != TextView::npos) return true;
  return !t.tok.empty() && is_python_lower(t.tok[0]);
}

class Punkt {
 public:
  explicit Punkt(const PunktOptions& options) : options_(options) {}

  std::vector<std::pair<size_t, size_t>> spans(TextView text) const;

 private:
  // \s of the patterns, as the engine that compiled them matches it.
  bool is_space(char32_t c) const {
    return options_.regex_module_classes ? is_regex_module_space(c) : is_python_space(c);
  }

  // PunktToken.is_initial: [^\W\d]\.$ matched at the start.
  bool is_initial(const Text& tok) const {
    if (tok.size() != 2 || tok[1] != '.' || is_python_digit(tok[0])) return false;
    return options_.regex_module_classes ? is_regex_module_word(tok[0]) : is_python_word(tok[0]);
  }

  // _re_non_word_chars: characters that cannot appear within words (with the sentence ends other than ".").
  bool is_non_word(char32_t c) const {
    switch (c) {
      case ')': case '"': case ';': case '}': case ']': case '*': case ':': case '@': case '\'': case '(': case '{':
      case '[': case '?': case '!':
        return true;
      default:
        return options_.typographic_quotes && is_typographic_quote(c);
    }
  }

  // The closing characters of re_boundary_realignment.
  bool is_closing(char32_t c) const {
    return c == '"' || c == '\'' || c == ')' || c == ']' || c == '}' ||
           (options_.typographic_quotes && is_typographic_quote(c));
  }

  std::optional<size_t> multi_char_at(TextView s, size_t p) const;
  bool word_ends_at(TextView s, size_t e) const;
  std::vector<Text> word_tokenize(TextView line) const;
  void second_pass(Token& t1, const Token& t2) const;
  bool contains_sentbreak(TextView context) const;
  std::optional<std::pair<size_t, size_t>> realignment(TextView s, size_t begin, size_t end) const;

  PunktOptions options_;
};

// _re_multi_char_punct at `p`: -{2,} | \.{2,} | (?:\.\s){2,}\. ; the end of the match, or nullopt.
std::optional<size_t> Punkt::multi_char_at(TextView s, size_t p) const {
  size_t e = p;
  while (e < s.size() && s[e] == '-') ++e;
  if (e - p >= 2) return e;
  e = p;
  while (e < s.size() && s[e] == '.') ++e;
  if (e - p >= 2) return e;
  size_t pairs = 0;
  e = p;
  while (e + 1 < s.size() && s[e] == '.' && is_space(s[e + 1])) {
    e += 2;
    ++pairs;
  }
  while (pairs >= 2) {  // greedy (?:\.\s){2,} backs off until a "." follows
    if (e < s.size() && s[e] == '.') return e + 1;
    e -= 2;
    --pairs;
  }
  return std::nullopt;
}

// The lookahead that ends a word token at `e` (_word_tokenize_fmt): whitespace, the end, a non-word character,
// multi-character punctuation, or a comma before one of those.
bool Punkt::word_ends_at(TextView s, size_t e) const {
  if (e == s.size() || is_space(s[e]) || is_non_word(s[e]) || multi_char_at(s, e)) return true;
  if (s[e] != ',') return false;
  const size_t n = e + 1;
  return n == s.size() || is_space(s[n]) || is_non_word(s[n]) || multi_char_at(s, n).has_value();
}

// PunktLanguageVars.word_tokenize: findall of the word tokenizer regex on one line.
std::vector<Text> Punkt::word_tokenize(TextView line) const {
  std::vector<Text> out;
  size_t p = 0;
  while (p < line.size()) {
    if (is_space(line[p])) {
      ++p;
      continue;
    }
    size_t end = p + 1;
    if (const auto multi = multi_char_at(line, p)) {
      end = *multi;
    } else if (starts_word(line[p])) {
      while (!word_ends_at(line, end)) ++end;  // \S+? up to the first place a word may end
    }
    out.emplace_back(line.substr(p, end - p));
    p = end;
  }
  return out;
}

// _second_pass_annotation with no collocations, sentence starters or orthographic context: only the initial and
// number rules can change a decision (the abbreviation / ellipsis rule needs the heuristic to say True).
void Punkt::second_pass(Token& t1, const Token& t2) const {
  if (!period_final(t1.tok)) return;
  const bool initial = is_initial(t1.tok);
  if (!initial && !is_number_type(t1.tok)) return;
  if (ortho_says_not_a_starter(t2) || (initial && !t2.tok.empty() && is_python_upper(t2.tok[0]))) t1.sentbreak = false;
}

// text_contains_sentbreak: a sentence break on a token that is not the last. Lines that str.strip() empties give
// no tokens.
bool Punkt::contains_sentbreak(TextView context) const {
  std::vector<Token> tokens;
  size_t begin = 0;
  while (begin <= context.size()) {
    size_t end = context.find(U'\n', begin);
    if (end == TextView::npos) end = context.size();
    const TextView line = context.substr(begin, end - begin);
    if (!std::all_of(line.begin(), line.end(), is_python_space))
      for (Text& tok : word_tokenize(line)) tokens.push_back({std::move(tok)});
    begin = end + 1;
  }
  for (Token& t : tokens) first_pass(t);
  for (size_t i = 0; i + 1 < tokens.size(); ++i) {
    second_pass(tokens[i], tokens[i + 1]);
    if (tokens[i].sentbreak) return true;
  }
  return false;
}

// re_boundary_realignment.match(text[begin:end]) (MULTILINE): closing characters, lazily, then whitespace, "--" or
// the end of a line; (length of the closing characters, length of the match).
std::optional<std::pair<size_t, size_t>> Punkt::realignment(TextView s, size_t begin, size_t end) const {
  for (size_t q = begin + 1; q <= end && is_closing(s[q - 1]); ++q) {
    if (q < end && is_space(s[q])) {
      size_t w = q;
      while (w < end && is_space(s[w])) ++w;
      return std::make_pair(q - begin, w - begin);
    }
    if (q + 1 < end && s[q] == '-' && s[q + 1] == '-') return std::make_pair(q - begin, q - begin);
    if (q == end || s[q] == '\n') return std::make_pair(q - begin, q - begin);
  }
  return std::nullopt;
}

struct EndContext {
  size_t mark = 0;                 // the . ? ! (match.start(); match.end() = mark + 1)
  size_t after_end = 0;            // end of after_tok
  std::optional<size_t> next_tok;  // start of next_tok when after_tok is whitespace + token
  size_t word_begin = 0;           // start of the word before the mark
};

std::vector<std::pair<size_t, size_t>> Punkt::spans(TextView text) const {
  // period_context_re().finditer: a sentence end followed by a non-word character, or by whitespace and a token.
  std::vector<EndContext> matches;
  for (size_t i = 0; i < text.size(); ++i) {
    if (!is_sent_end(text[i])) continue;
    const size_t n = i + 1;
    if (n < text.size() && is_non_word(text[n])) {
      matches.push_back({i, n + 1, std::nullopt});
      continue;
    }
    size_t w = n;
    while (w < text.size() && is_space(text[w])) ++w;
    if (w == n || w == text.size()) continue;
    size_t e = w;
    while (e < text.size() && !is_space(text[e])) ++e;
    matches.push_back({i, e, w});
  }

  // _match_potential_end_contexts: each match with the word before it, dropping a match whose word overlaps the
  // next match's.
  std::vector<EndContext> candidates;
  std::optional<EndContext> previous;
  size_t previous_begin = 0, previous_end = 0;
  for (EndContext match : matches) {
    size_t last_space = 0;  // _get_last_whitespace_index over text[previous_end:match.start]
    for (size_t i = match.mark; i > previous_end; --i) {
      if (is_ascii_whitespace(text[i - 1])) {
        last_space = i - 1 - previous_end;
        break;
      }
    }
    match.word_begin = last_space != 0 ? last_space + previous_end + 1 : previous_begin;
    if (previous && previous_end <= match.word_begin) candidates.push_back(*previous);
    previous = match;
    previous_begin = match.word_begin;
    previous_end = match.mark;
  }
  if (previous) candidates.push_back(*previous);

  // _slices_from_text; the last slice ends at len(text.rstrip()).
  std::vector<std::pair<size_t, size_t>> slices;
  size_t last_break = 0;
  for (const EndContext& c : candidates) {
    if (!contains_sentbreak(text.substr(c.word_begin, c.after_end - c.word_begin))) continue;
    slices.emplace_back(last_break, c.mark + 1);
    last_break = c.next_tok ? *c.next_tok : c.mark + 1;
  }
  size_t stripped = text.size();
  while (stripped > 0 && is_python_space(text[stripped - 1])) --stripped;
  slices.emplace_back(last_break, stripped);

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
    const auto& next = slices[i + 1];
    if (const auto m = realignment(text, next.first, std::max(next.first, next.second))) {
      out.emplace_back(begin, next.first + m->first);
      realign = m->second;
    } else {
      realign = 0;
      if (nonempty) out.emplace_back(begin, end);
    }
  }
  return out;
}

}  // namespace

std::vector<std::pair<size_t, size_t>> punkt_spans(std::u32string_view text, const PunktOptions& options) {
  return Punkt(options).spans(text);
}

std::vector<std::string> punkt_sentences(std::string_view text, const PunktOptions& options) {
  const std::string valid = is_valid_utf8(text) ? std::string(text) : to_valid_utf8(text);
  Text s;
  for (size_t pos = 0; pos < valid.size();) s.push_back(next_code_point(valid, pos));
  std::vector<std::string> out;
  for (const auto& [begin, end] : punkt_spans(s, options)) {
    std::string sentence;
    for (size_t i = begin; i < end; ++i) append_utf8(sentence, s[i]);
    out.push_back(std::move(sentence));
  }
  return out;
}

}  // namespace loom::text
