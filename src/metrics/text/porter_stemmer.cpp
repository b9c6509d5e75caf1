#include "metrics/text/porter_stemmer.h"

#include "metrics/text/unicode_text.h"

#include <functional>
#include <map>
#include <stdexcept>
#include <vector>

namespace loom::metrics::text {
namespace {

using Word = std::u32string;
using Condition = std::function<bool(const Word&)>;

struct Rule {
  Word suffix;
  Word replacement;
  Condition condition;  // empty: always
};

bool is_vowel(char32_t c) { return c == U'a' || c == U'e' || c == U'i' || c == U'o' || c == U'u'; }

bool is_consonant(const Word& w, size_t i) {
  if (is_vowel(w[i])) return false;
  if (w[i] == U'y') return i == 0 ? true : !is_consonant(w, i - 1);
  return true;
}

int measure(const Word& stem) {
  int count = 0;
  for (size_t i = 0; i + 1 < stem.size(); ++i)
    if (!is_consonant(stem, i) && is_consonant(stem, i + 1)) ++count;
  return count;
}

bool positive_measure(const Word& stem) { return measure(stem) > 0; }

bool contains_vowel(const Word& stem) {
  for (size_t i = 0; i < stem.size(); ++i)
    if (!is_consonant(stem, i)) return true;
  return false;
}

bool ends_with(const Word& w, const Word& suffix) {
  return w.size() >= suffix.size() && w.compare(w.size() - suffix.size(), suffix.size(), suffix) == 0;
}

Word without(const Word& w, const Word& suffix) { return w.substr(0, w.size() - suffix.size()); }

bool ends_double_consonant(const Word& w) {
  return w.size() >= 2 && w[w.size() - 1] == w[w.size() - 2] && is_consonant(w, w.size() - 1);
}

bool ends_cvc(const Word& w) {
  const size_t n = w.size();
  if (n >= 3 && is_consonant(w, n - 3) && !is_consonant(w, n - 2) && is_consonant(w, n - 1) && w[n - 1] != U'w' &&
      w[n - 1] != U'x' && w[n - 1] != U'y')
    return true;
  return n == 2 && !is_consonant(w, 0) && is_consonant(w, 1);  // NLTK_EXTENSIONS
}

// _apply_rule_list: the first rule whose suffix the word ends with decides (its condition failing keeps the word).
Word apply_rules(const Word& word, const std::vector<Rule>& rules) {
  for (const Rule& rule : rules) {
    if (rule.suffix == U"*d" && ends_double_consonant(word)) {
      const Word stem = word.substr(0, word.size() - 2);
      return !rule.condition || rule.condition(stem) ? stem + rule.replacement : word;
    }
    if (ends_with(word, rule.suffix)) {
      const Word stem = without(word, rule.suffix);
      return !rule.condition || rule.condition(stem) ? stem + rule.replacement : word;
    }
  }
  return word;
}

Word step1a(const Word& w) {
  if (ends_with(w, U"ies") && w.size() == 4) return without(w, U"ies") + U"ie";
  return apply_rules(w, {{U"sses", U"ss", {}}, {U"ies", U"i", {}}, {U"ss", U"ss", {}}, {U"s", U"", {}}});
}

Word step1b(const Word& w) {
  if (ends_with(w, U"ied")) return without(w, U"ied") + (w.size() == 4 ? U"ie" : U"i");
  if (ends_with(w, U"eed")) {
    const Word stem = without(w, U"eed");
    return measure(stem) > 0 ? stem + U"ee" : w;
  }
  Word intermediate;
  bool found = false;
  for (const Word& suffix : {Word(U"ed"), Word(U"ing")}) {
    if (ends_with(w, suffix)) {
      intermediate = without(w, suffix);
      if (contains_vowel(intermediate)) {
        found = true;
        break;
      }
    }
  }
  if (!found) return w;
  const char32_t last = intermediate.back();
  return apply_rules(intermediate,
                     {{U"at", U"ate", {}},
                      {U"bl", U"ble", {}},
                      {U"iz", U"ize", {}},
                      {U"*d", Word(1, last), [last](const Word&) { return last != U'l' && last != U's' && last != U'z'; }},
                      {U"", U"e", [](const Word& stem) { return measure(stem) == 1 && ends_cvc(stem); }}});
}

Word step1c(const Word& w) {
  return apply_rules(w, {{U"y", U"i", [](const Word& stem) { return stem.size() > 1 && is_consonant(stem, stem.size() - 1); }}});
}

Word step2(const Word& w) {
  if (ends_with(w, U"alli") && positive_measure(without(w, U"alli"))) return step2(without(w, U"alli") + U"al");
  const Condition m = positive_measure;
  std::vector<Rule> rules = {
      {U"ational", U"ate", m}, {U"tional", U"tion", m}, {U"enci", U"ence", m},  {U"anci", U"ance", m},
      {U"izer", U"ize", m},    {U"bli", U"ble", m},     {U"alli", U"al", m},    {U"entli", U"ent", m},
      {U"eli", U"e", m},       {U"ousli", U"ous", m},   {U"ization", U"ize", m}, {U"ation", U"ate", m},
      {U"ator", U"ate", m},    {U"alism", U"al", m},    {U"iveness", U"ive", m}, {U"fulness", U"ful", m},
      {U"ousness", U"ous", m}, {U"aliti", U"al", m},    {U"iviti", U"ive", m},  {U"biliti", U"ble", m},
      {U"fulli", U"ful", m},
  };
  const Word head = w.size() >= 3 ? w.substr(0, w.size() - 3) : Word();  // word[:-3]
  rules.push_back({U"logi", U"log", [head](const Word&) { return positive_measure(head); }});
  return apply_rules(w, rules);
}

Word step3(const Word& w) {
  const Condition m = positive_measure;
  return apply_rules(w, {{U"icate", U"ic", m},
                         {U"ative", U"", m},
                         {U"alize", U"al", m},
                         {U"iciti", U"ic", m},
                         {U"ical", U"ic", m},
                         {U"ful", U"", m},
                         {U"ness", U"", m}});
}

Word step4(const Word& w) {
  const Condition m = [](const Word& stem) { return measure(stem) > 1; };
  return apply_rules(
      w, {{U"al", U"", m},   {U"ance", U"", m}, {U"ence", U"", m}, {U"er", U"", m},   {U"ic", U"", m},
          {U"able", U"", m}, {U"ible", U"", m}, {U"ant", U"", m},  {U"ement", U"", m}, {U"ment", U"", m},
          {U"ent", U"", m},
          {U"ion", U"", [](const Word& stem) { return measure(stem) > 1 && !stem.empty() && (stem.back() == U's' || stem.back() == U't'); }},
          {U"ou", U"", m},   {U"ism", U"", m},  {U"ate", U"", m},  {U"iti", U"", m},  {U"ous", U"", m},
          {U"ive", U"", m},  {U"ize", U"", m}});
}

Word step5a(const Word& w) {
  if (ends_with(w, U"e")) {
    const Word stem = without(w, U"e");
    if (measure(stem) > 1) return stem;
    if (measure(stem) == 1 && !ends_cvc(stem)) return stem;
  }
  return w;
}

Word step5b(const Word& w) {
  const Word head = w.empty() ? Word() : w.substr(0, w.size() - 1);  // word[:-1]
  return apply_rules(w, {{U"ll", U"l", [head](const Word&) { return measure(head) > 1; }}});
}

const std::map<Word, Word>& irregular_forms() {
  static const std::map<Word, Word> pool = {
      {U"sky", U"sky"},         {U"skies", U"sky"},      {U"dying", U"die"},        {U"lying", U"lie"},
      {U"tying", U"tie"},       {U"news", U"news"},      {U"innings", U"inning"},   {U"inning", U"inning"},
      {U"outings", U"outing"},  {U"outing", U"outing"},  {U"cannings", U"canning"}, {U"canning", U"canning"},
      {U"howe", U"howe"},       {U"proceed", U"proceed"}, {U"exceed", U"exceed"},   {U"succeed", U"succeed"},
  };
  return pool;
}

}  // namespace

std::string nltk_porter_stem(std::string_view utf8_word) {
  const Word word = to_u32(utf8_word);
  Word stem = py_lower(word);
  // `if word in self.pool: return self.pool[stem]` (the original word is looked up, the lowercased one returned).
  const auto& pool = irregular_forms();
  if (pool.count(word)) {
    auto it = pool.find(stem);
    if (it == pool.end()) throw std::out_of_range("KeyError in PorterStemmer.pool");
    return to_utf8(it->second);
  }
  if (word.size() <= 2) return to_utf8(stem);
  stem = step1a(stem);
  stem = step1b(stem);
  stem = step1c(stem);
  stem = step2(stem);
  stem = step3(stem);
  stem = step4(stem);
  stem = step5a(stem);
  stem = step5b(stem);
  return to_utf8(stem);
}

}  // namespace loom::metrics::text
