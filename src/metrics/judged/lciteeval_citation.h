// L-CiteEval's citation recall / precision / F1 (ZetangForward/L-CITEEVAL script/eval_citation.py at 6e49326,
// compute_autoais; docs/metrics.md), re-implemented over an NLI oracle: the statements of the generation and the
// passages each cites give the (premise, hypothesis) pairs to check; an NLI model answers them (metrics/judge/
// nli_pass.h asks an endpoint, results/verdicts.h stores the answers). No network here.
//  statements  the generation split into sentences (upstream: NLTK sent_tokenize; here split_statements), each with
//              its citations removed and stripped as the hypothesis.
//  citations   re.findall(r"\[\d+") of the sentence (ASCII digits), 1-based, "[0" being Python's docs[-1]: none,
//              or one out of range -> not entailed, no NLI call; else the first at_most_citations (3, upstream's default) count, and the premise is the cited
//              passages formatted ("Passage: <doc>", or "Title: <title>\nPassage: <text>" for an object) joined by
//              "\n".
//  recall      entailed statements / statements.
//  precision   per statement, when entailed with more than one citation: each cited passage counts unless it alone
//              does not entail the statement and the other cited passages together still do ("partially supports"
//              otherwise); a statement with one citation counts 1 when entailed. Over all counted citations (0 when
//              none).
//  f1          2PR/(P+R), 0 when both are 0. A generation with no sentence has no score (upstream skips it).
// The answers come from upstream's own NLI model run locally (a DeBERTa-v2 classifier, nli/deberta_nli.h: entailed
// iff its label is "entailment", upstream's rule) or from an endpoint speaking TRUE's (google/t5_xxl_true_nli_mixture)
// text "premise: <P> hypothesis: <H>", entailed when the answer, stripped, is "1" (ALCE's _run_nli_autoais);
// docs/judge.md states the difference.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace loom::metrics::judged {

// The benchmark whose rows get these metrics and their names, as reported.
inline constexpr const char* kLCiteEvalBenchmark = "L_CiteEval";
inline constexpr const char* kCiteRecall = "lciteeval_cite_recall";
inline constexpr const char* kCitePrecision = "lciteeval_cite_precision";
inline constexpr const char* kCiteF1 = "lciteeval_cite_f1";
// The metric name NLI verdicts are stored under (results/verdicts.h); each verdict's sample_key is
// "nli:" + nli_query_hash, so one (premise, hypothesis) is asked once per file, whatever row needs it.
inline constexpr const char* kNliVerdictMetric = "lciteeval_nli";

// Tasks scored through NLI (every L-CiteEval task but niah and counting_stars, whose citations upstream checks
// against the gold passages without a model: niah_citation, counting_stars_citation below).
bool lciteeval_nli_task(const std::string& task);

// Sentence split standing in for NLTK's sent_tokenize: a sentence ends after '.', '!' or '?' (more of them and
// closing quotes/brackets included) followed by whitespace, unless the word before a '.' is a single letter or a
// common abbreviation (Mr, Mrs, Ms, Dr, Prof, St, vs, etc, e.g, i.e, Jr, Sr); pieces are stripped, empty ones dropped.
std::vector<std::string> split_statements(const std::string& text);

// Upstream's remove_citations: re.sub(r"\[\d+", "", re.sub(r" \[\d+", "", s)).replace(" |", "").replace("]", "").
std::string lciteeval_remove_citations(const std::string& s);

// TRUE's input text for one check.
std::string true_nli_input(const std::string& premise, const std::string& hypothesis);
// ALCE's reading of TRUE's answer: entailed iff the stripped answer is "1".
bool true_nli_entailed(const std::string& answer);
// Upstream L-CiteEval's rule for its classifier's answer (_run_nli_autoais): the pipeline's label, entailed iff it is
// exactly "entailment". A local classifier's verdict stores that label as its response (metrics/judge/nli_pass.h).
inline constexpr const char* kNliEntailmentLabel = "entailment";
// A stored NLI answer read back: a local classifier's label "entailment" (upstream's rule) or an endpoint's TRUE
// answer "1" (true_nli_entailed) is entailed; anything else is not.
bool nli_answer_entailed(const std::string& answer);
// Hex FNV-1a 64 of true_nli_input: the key a stored answer is found by.
std::string nli_query_hash(const std::string& premise, const std::string& hypothesis);

struct NliQuery {
  std::string premise, hypothesis;
};

// An answer the oracle has: entailed or not, or none yet (missing), or a stored failure (its reason).
struct NliLookup {
  enum class State { entailed, not_entailed, missing, failed } state = State::missing;
  std::string error;
};
using NliOracle = std::function<NliLookup(const std::string& premise, const std::string& hypothesis)>;

struct CitationScores {
  double recall = 0, precision = 0, f1 = 0;  // 0–1
  int64_t citations = 0;                     // upstream's cite_num
};

struct CitationEvaluation {
  std::optional<CitationScores> scores;  // when every needed answer was there
  std::vector<NliQuery> missing;         // checks not answered yet, first-asked order, no repeats
  std::string failed;                    // the first stored failure met (scores then absent)
  bool no_statements = false;            // the generation has no sentence: upstream skips the sample
};

// `docs`: the row's passages as upstream's data has them (strings, or objects with title/text).
CitationEvaluation evaluate_citations(const std::string& generation, const nlohmann::json& docs,
                                      const NliOracle& oracle, int at_most_citations = 3);

// niah and counting_stars: upstream checks the cited passage ids against the gold passages, no NLI
// (compute_niah_citation, compute_counting_stars_citation). nullopt with `why` where upstream raises or has no gold.
//  niah            the gold passage is the first whose text contains the answer; the output's first line
//                  (stripped), its first at_most_citations "[n" ids: gold cited -> recall 1, precision 1/len,
//                  f1 2p/(1+p); else 0, 0, 0.
//  counting_stars  gold passages (1-based) contain "The little penguin counted"; the output's JSON from the first
//                  '{' to the first '}' (no braces or bad JSON: 0, 0, 0), its "passage_id" list deduplicated (absent:
//                  0, 0, 0): precision = gold ids cited / ids, recall = gold ids cited / gold passages.
std::optional<CitationScores> niah_citation(const std::string& generation, const std::string& answer,
                                            const nlohmann::json& docs, std::string* why, int at_most_citations = 3);
std::optional<CitationScores> counting_stars_citation(const std::string& generation, const nlohmann::json& docs,
                                                      std::string* why);

}  // namespace loom::metrics::judged
