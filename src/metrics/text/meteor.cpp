#include "metrics/text/meteor.h"

#include "metrics/text/porter_stemmer.h"
#include "metrics/text/unicode_text.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <set>
#include <utility>

namespace loom::metrics::text {
namespace {

using Enum = std::vector<std::pair<int, std::string>>;
using Matches = std::vector<std::pair<int, int>>;

// _match_enums with a match predicate: pops each matched pair from both lists.
void match(Enum& hypothesis, Enum& reference, Matches& out,
           const std::function<bool(size_t hyp_index, const std::string& ref_word)>& matches) {
  for (size_t i = hypothesis.size(); i-- > 0;) {
    for (size_t j = reference.size(); j-- > 0;) {
      if (matches(i, reference[j].second)) {
        out.emplace_back(hypothesis[i].first, reference[j].first);
        hypothesis.erase(hypothesis.begin() + static_cast<std::ptrdiff_t>(i));
        reference.erase(reference.begin() + static_cast<std::ptrdiff_t>(j));
        break;
      }
    }
  }
}

int count_chunks(const Matches& matches) {
  size_t i = 0;
  int chunks = 1;
  while (i + 1 < matches.size()) {
    if (matches[i + 1].first == matches[i].first + 1 && matches[i + 1].second == matches[i].second + 1) {
      ++i;
      continue;
    }
    ++i;
    ++chunks;
  }
  return chunks;
}

}  // namespace

double nltk_single_meteor(const std::vector<std::string>& reference, const std::vector<std::string>& hypothesis,
                          const WordNet& wordnet, double alpha, double beta, double gamma) {
  Enum hyp, ref;
  for (size_t i = 0; i < hypothesis.size(); ++i) hyp.emplace_back(static_cast<int>(i), py_lower(std::string_view(hypothesis[i])));
  for (size_t i = 0; i < reference.size(); ++i) ref.emplace_back(static_cast<int>(i), py_lower(std::string_view(reference[i])));
  const size_t translation_length = hyp.size();
  const size_t reference_length = ref.size();
  Matches matches;
  match(hyp, ref, matches, [&](size_t i, const std::string& r) { return hyp[i].second == r; });
  for (auto& h : hyp) h.second = nltk_porter_stem(h.second);
  for (auto& r : ref) r.second = nltk_porter_stem(r.second);
  match(hyp, ref, matches, [&](size_t i, const std::string& r) { return hyp[i].second == r; });
  // The synonym set of hypothesis word i is computed once per hypothesis word (as nltk does before its inner loop).
  size_t cached_for = SIZE_MAX;
  std::set<std::string> synonyms;
  match(hyp, ref, matches, [&](size_t i, const std::string& r) {
    if (cached_for != i) {
      synonyms = wordnet.synonyms(hyp[i].second);
      synonyms.insert(hyp[i].second);
      cached_for = i;
    }
    return synonyms.count(r) > 0;
  });
  std::sort(matches.begin(), matches.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });  // stable enough: first is unique
  const size_t m = matches.size();
  if (translation_length == 0 || reference_length == 0 || m == 0) return 0.0;
  const double precision = static_cast<double>(m) / static_cast<double>(translation_length);
  const double recall = static_cast<double>(m) / static_cast<double>(reference_length);
  const double fmean = (precision * recall) / (alpha * precision + (1 - alpha) * recall);
  const double frag_frac = static_cast<double>(count_chunks(matches)) / static_cast<double>(m);
  const double penalty = gamma * std::pow(frag_frac, beta);
  return (1 - penalty) * fmean;
}

}  // namespace loom::metrics::text
