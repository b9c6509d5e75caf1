// LongIns (Ins-Bench/LongIns-Bench eval.py; LOOM-Scope's utils/evaluation/eval.py is the same rule), on 0-1:
// longins_f1: every `[...]` of the response (re.findall(r'\[(.*?)\]'): shortest match, no newline inside), every
// run of \d inside those (Unicode decimal digits, int()), as a set P; the references (the record's `error` list of
// question numbers) as a set G. F1 = 2PR/(P+R) with precision |P∩G|/|P|, recall |P∩G|/|G|; 0 when P or G is empty.
// The task score is 100 x the mean over samples (eval.py's f1.json; LOOM-Scope rounds it to 2 places).
#include "metrics/scorers/scorer_support.h"

#include "metrics/text/unicode_text.h"

#include <set>

namespace loom::metrics {

namespace {

// Python int() of a run of Unicode decimal digits, as its canonical decimal string (no leading zeros), so numbers
// of any size compare as Python's ints do. Every Nd block is a run of whole 0..9 sequences, so a digit's value is
// its distance from the start of its run of Nd code points, modulo 10.
std::string python_int_text(const std::u32string& digits) {
  std::string out;
  for (char32_t c : digits) {
    char32_t start = c;
    while (start > 0 && text::py_is_decimal_digit(start - 1)) --start;
    const char value = static_cast<char>('0' + (c - start) % 10);
    if (out.empty() && value == '0') continue;
    out.push_back(value);
  }
  return out.empty() ? "0" : out;
}

void add_numbers(const std::u32string& s, std::set<std::string>& out) {
  for (size_t i = 0; i < s.size();) {
    if (!text::py_is_decimal_digit(s[i])) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < s.size() && text::py_is_decimal_digit(s[j])) ++j;
    out.insert(python_int_text(s.substr(i, j - i)));
    i = j;
  }
}

// The numbers inside re.findall(r'\[(.*?)\]', response).
std::set<std::string> bracketed_numbers(const std::string& response) {
  const std::u32string u = text::to_u32(response);
  std::set<std::string> out;
  size_t i = 0;
  while (i < u.size()) {
    if (u[i] != U'[') {
      ++i;
      continue;
    }
    size_t j = i + 1;
    while (j < u.size() && u[j] != U']' && u[j] != U'\n') ++j;
    if (j < u.size() && u[j] == U']') {
      add_numbers(u.substr(i + 1, j - i - 1), out);
      i = j + 1;
    } else {
      ++i;  // no match starting here; the regex tries the next position
    }
  }
  return out;
}

double longins_f1(const std::string& prediction, const std::vector<std::string>& references, const nlohmann::json&) {
  const std::set<std::string> predicted = bracketed_numbers(prediction);
  std::set<std::string> gold;
  for (const auto& r : references) {
    const std::u32string u = text::to_u32(text::py_strip(r));
    bool digits = !u.empty();
    for (char32_t c : u) digits = digits && text::py_is_decimal_digit(c);
    if (digits) gold.insert(python_int_text(u));
    else gold.insert("ref:" + r);  // a non-integer reference never matches a number
  }
  size_t tp = 0;
  for (const auto& p : predicted) tp += gold.count(p);
  const size_t fp = predicted.size() - tp, fn = gold.size() - tp;
  if (tp + fp == 0 || tp + fn == 0) return 0.0;
  const double precision = static_cast<double>(tp) / static_cast<double>(tp + fp);
  const double recall = static_cast<double>(tp) / static_cast<double>(tp + fn);
  if (precision + recall == 0) return 0.0;
  return 2 * (precision * recall) / (precision + recall);
}

}  // namespace

std::vector<ScorerEntry> longins_scorers() {
  return with_aggregation({{"longins_f1", longins_f1}},
                          mean_aggregation("LongIns eval.py: 100 x mean F1 over the task's samples"));
}

}  // namespace loom::metrics
