// LIBRA scorers (ai-forever/LIBRA eval.py + evaluation/metrics.py): per sample the max over positive_outputs (the
// references) of the metric; then, if metadata "negative_outputs" is non-empty, with k of the n negatives found in
// the answer: k == n -> 0, else score - k/n floored at 0.
//  libra_em: 1 if the reference is a substring of the answer (case-sensitive, no normalisation).
//  libra_f1: lowercase, drop ASCII punctuation, collapse whitespace (no article removal), token F1.
//  libra_count: LongBench count_score.
#include "metrics/scorers/scorer_support.h"

#include "metrics/text/normalize.h"
#include "metrics/text/unicode_text.h"

#include <algorithm>

namespace loom::metrics {

namespace {

std::string libra_normalize(const std::string& s) {
  std::string no_punct;
  for (char32_t c : text::py_lower(text::to_u32(s)))
    if (!text::is_ascii_punctuation(c)) no_punct += text::to_utf8(c);
  return text::collapse_whitespace(no_punct);
}

double count_score(const std::string& prediction, const std::string& truth) {
  const auto numbers = text::find_digit_runs(prediction);
  if (numbers.empty()) return 0.0;
  size_t right = 0;
  for (const auto& n : numbers) right += n == truth;
  return static_cast<double>(right) / static_cast<double>(numbers.size());
}

ScoreFunction libra(std::function<double(const std::string&, const std::string&)> metric) {
  return [metric](const std::string& answer, const std::vector<std::string>& positives, const nlohmann::json& meta) {
    if (positives.empty()) return 0.0;
    double score = metric(answer, positives[0]);
    for (size_t i = 1; i < positives.size(); ++i) score = std::max(score, metric(answer, positives[i]));
    const auto negatives = metadata_strings(meta, "negative_outputs");
    if (!negatives.empty()) {
      size_t k = 0;
      for (const auto& n : negatives) k += text::contains(answer, n);
      if (k == negatives.size()) return 0.0;
      score -= (1.0 / static_cast<double>(negatives.size())) * static_cast<double>(k);
      if (score < 0) score = 0.0;
    }
    return score;
  };
}

}  // namespace

std::vector<ScorerEntry> libra_scorers() {
  std::vector<ScorerEntry> out;
  out.push_back({"libra_em", libra([](const std::string& a, const std::string& g) {
                   return text::contains(a, g) ? 1.0 : 0.0;
                 })});
  out.push_back({"libra_f1", libra([](const std::string& a, const std::string& g) {
                   return text::token_f1(text::py_split(libra_normalize(a)), text::py_split(libra_normalize(g)));
                 })});
  out.push_back({"libra_count", libra(count_score)});
  return out;
}

}  // namespace loom::metrics
