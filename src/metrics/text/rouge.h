// The two ROUGE implementations the official scorers use (they give different numbers; see docs/metrics.md).
//
// pltrdy `rouge==1.0.1` — Rouge().get_scores([hyp], [ref], avg=True) as called by LongBench, LV-Eval, L-CiteEval:
//   sentences = pieces of text.split(".") that are non-empty, each " ".join(piece.split()); words = split(" ");
//   rouge-1/2 use n-gram *sets*; rouge-l is the summary-level union LCS over *sets* of words, with pltrdy's
//   recursive backtrack (which can exceed Python's recursion limit on long sentences: the call then raises).
//   Returns nullopt whenever the Python call raises (empty hypothesis / reference, recursion limit); every
//   official caller turns that into a score of 0.
//
// Google `rouge-score` (RougeScorer, default tokenizer, no stemmer) as called by LEval and InfiniteBench (through
//   HF `evaluate`): lowercase, [^a-z0-9]+ -> space, tokens; rougeN counts multisets, rougeL is token LCS, rougeLsum
//   splits sentences on "\n" and uses the union-LCS with double-count protection.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace loom::metrics::text {

struct RougePRF {
  double f = 0, p = 0, r = 0;
};

struct PltrdyRouge {
  RougePRF rouge1, rouge2, rougel;
};

// recursion_budget: how many nested `_recon` frames fit under CPython's recursion limit (1000) in the official
// call chain, i.e. 1000 minus the frames below it (e.g. LongBench eval.py: <module>, scorer, rouge_score,
// get_scores, _get_avg_scores, <lambda>, rouge_l_summary_level, _union_lcs, _recon_lcs = 9 -> 991). A backtrack
// that needs more frames raises RecursionError upstream (-> nullopt here).
std::optional<PltrdyRouge> pltrdy_rouge(std::string_view hypothesis, std::string_view reference,
                                        int recursion_budget);
// Frames pltrdy itself adds between Rouge.get_scores and the first _recon call (get_scores included).
inline constexpr int kPltrdyFramesFromGetScores = 6;
// Budget when Rouge.get_scores is called from a function at stack depth `caller_depth` (<module> = 1).
inline constexpr int pltrdy_budget_for_caller_depth(int caller_depth) {
  return 1000 - caller_depth - kPltrdyFramesFromGetScores;
}

// Google rouge-score.
std::vector<std::string> google_rouge_tokenize(std::string_view text);
RougePRF google_rouge_n(std::string_view target, std::string_view prediction, int n);
RougePRF google_rouge_l(std::string_view target, std::string_view prediction);
RougePRF google_rouge_lsum(std::string_view target, std::string_view prediction);

}  // namespace loom::metrics::text
