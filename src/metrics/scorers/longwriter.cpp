// LongWriter length score S_l (THUDM/LongWriter evaluation/eval_length.py, pred.py count_words), on 0-1:
// y = #CJK characters [\u4e00-\u9fff] + #English words \b[a-zA-Z]+\b (Unicode word boundaries, so letters glued
// to digits or CJK do not count); x = required length (metadata "length", else references[0]).
// y > x: max(0, 1 - (y/x - 1)/3); else max(0, 1 - (x/y - 1)/2); y == 0 -> 0 (upstream divides by zero).
// The quality score S_q needs a GPT-4o judge and is not computed.
#include "metrics/scorers/scorer_support.h"

#include "metrics/text/unicode_text.h"

#include <algorithm>
#include <cstdlib>

namespace loom::metrics {

namespace {

double longwriter_word_count(const std::string& response) {
  const std::u32string u = text::to_u32(response);
  auto ascii_letter = [](char32_t c) { return (c >= U'a' && c <= U'z') || (c >= U'A' && c <= U'Z'); };
  size_t cjk = 0, words = 0;
  for (size_t i = 0; i < u.size();) {
    if (u[i] >= 0x4E00 && u[i] <= 0x9FFF) ++cjk;
    if (!ascii_letter(u[i])) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < u.size() && ascii_letter(u[j])) ++j;
    const bool left = i == 0 || !text::py_is_word_char(u[i - 1]);
    const bool right = j == u.size() || !text::py_is_word_char(u[j]);
    words += left && right;
    i = j;
  }
  return static_cast<double>(cjk + words);
}

double length_score(const std::string& prediction, const std::vector<std::string>& references,
                    const nlohmann::json& meta) {
  double x = 0;
  if (meta.is_object() && meta.contains("length") && meta.at("length").is_number()) {
    x = meta.at("length").get<double>();
  } else {
    std::string s = meta.is_object() && meta.contains("length") ? metadata_string(meta, "length")
                    : references.empty()                        ? std::string()
                                                                : references[0];
    x = std::strtod(s.c_str(), nullptr);
  }
  const double y = longwriter_word_count(prediction);
  if (x <= 0 || y <= 0) return 0.0;
  const double s = y > x ? 100 * std::max(0.0, 1. - (y / x - 1) / 3) : 100 * std::max(0.0, 1. - (x / y - 1) / 2);
  return s / 100;
}

}  // namespace

std::vector<ScorerEntry> longwriter_scorers() { return {{"longwriter_length", length_score}}; }

}  // namespace loom::metrics
