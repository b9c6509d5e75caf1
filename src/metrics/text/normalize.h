// Answer normalisation and token-overlap F1 shared by several official scorers.
//  * squad_normalize: lower -> drop ASCII punctuation -> replace whole words a|an|the by " " -> " ".join(split())
//    (LongBench normalize_answer, also LEval, LVEval, InfiniteBench, L-CiteEval).
//  * zh_normalize: lower -> drop ASCII + LongBench's CJK punctuation -> delete all whitespace (normalize_zh_answer).
//  * token_f1: multiset overlap F1 of two token lists (0 when nothing is shared).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace loom::metrics::text {

std::string squad_normalize(std::string_view utf8);
std::string zh_normalize(std::string_view utf8);
bool is_zh_punctuation(char32_t c);  // LongBench's cn_punctuation set (without the ASCII ones)

struct OverlapScore {
  double f1 = 0, precision = 0, recall = 0;
};
OverlapScore token_overlap(const std::vector<std::string>& prediction, const std::vector<std::string>& reference);
double token_f1(const std::vector<std::string>& prediction, const std::vector<std::string>& reference);

// squad_normalize both sides, whitespace-split, token F1 (LongBench qa_f1_score).
double squad_f1(std::string_view prediction, std::string_view reference);

}  // namespace loom::metrics::text
