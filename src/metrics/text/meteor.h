// nltk 3.8.1's METEOR (nltk/translate/meteor_score.py single_meteor_score) with its defaults: words lowercased
// (str.lower); alignment in three stages, each matching greedily from the last hypothesis word to the first and,
// for each, from the last unmatched reference word to the first: exact words, then Porter stems (NLTK_EXTENSIONS;
// the unmatched words carry on stemmed), then WordNet synonyms (a reference word in the set of lemma names of the
// hypothesis word's synsets, or the word itself); matches sorted by hypothesis position;
// P = m / |hypothesis|, R = m / |reference|, Fmean = P·R / (α·P + (1−α)·R), chunks = runs of matches adjacent in
// both, penalty = γ·(chunks / m)^β, score = (1 − penalty)·Fmean with α 0.9, β 3, γ 0.5; 0 when nothing matches or
// either side is empty.
#pragma once

#include "metrics/text/wordnet.h"

#include <string>
#include <vector>

namespace loom::metrics::text {

double nltk_single_meteor(const std::vector<std::string>& reference, const std::vector<std::string>& hypothesis,
                          const WordNet& wordnet, double alpha = 0.9, double beta = 3.0, double gamma = 0.5);

}  // namespace loom::metrics::text
