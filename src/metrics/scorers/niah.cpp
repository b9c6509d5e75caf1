// NIAH word recall, as LOOM-Scope's NIAH evaluation scores it (the official NIAH score is a GPT judge, see
// docs/metrics.md): the share of the reference's distinct lowercase whitespace-separated words that also occur
// in the response, max over references.
#include "metrics/scorers/scorer_support.h"

#include "metrics/text/unicode_text.h"

#include <set>

namespace loom::metrics {

namespace {

std::set<std::string> word_set(const std::string& s) {
  auto words = text::py_split(text::py_lower(s));
  return std::set<std::string>(words.begin(), words.end());
}

double word_recall(const std::string& response, const std::vector<std::string>& references, const nlohmann::json&) {
  const auto r = word_set(response);
  return max_over_references(references, [&](const std::string& ref) {
    const auto a = word_set(ref);
    if (a.empty()) return 0.0;
    size_t hit = 0;
    for (const auto& w : a) hit += r.count(w);
    return static_cast<double>(hit) / static_cast<double>(a.size());
  });
}

}  // namespace

std::vector<ScorerEntry> niah_scorers() { return {{"niah_word_recall", word_recall}}; }

}  // namespace loom::metrics
