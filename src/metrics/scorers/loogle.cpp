// LooGLE's automatic scorers (bigai-nlco/LooGLE @ 6734382 Evaluation/automatic_eval.py + automatic_metrics.py; the
// same functions in LOOM-Scope's benchmarks/General/LooGLE/utils/evaluation). Each QA pair (or summary) is one row
// with one reference; a prediction '' is scored as 'None' (automatic_eval.py's evaluation()).
//  loogle_bleu1 / loogle_bleu4   nltk 3.8.1 sentence_bleu([ref.split()], hyp.split(), weights (1,0,0,0) / (0,0,0,1)),
//                                no smoothing: 0 without a unigram match; else BP · p_n, with p_n = the smallest
//                                positive double when no n-gram matches (method0), i.e. about 0.
//  loogle_rouge1 / loogle_rouge2 / loogle_rougel   pltrdy rouge 1.0.1 Rouge().get_scores(hyp, ref) *recall* ("r")
//                                of rouge-1, rouge-2, rouge-l (LOOM-Scope names the rouge-2 column "rouge4"). Where
//                                pltrdy raises (a hypothesis of only whitespace or dots, pltrdy's recursion limit)
//                                the official script stops with the exception; the row scores 0 here.
//  loogle_meteor                 nltk single_meteor_score(set(ref.split()), set(hyp.split())) (text/meteor.h). The
//                                official call passes Python *sets*, whose order follows the per-process string hash
//                                (PYTHONHASHSEED), so the chunk penalty — and the score — varies between runs of
//                                the official script; within one process both sets share one arbitrary order.
//                                Here both are the distinct words in one fixed common order, sorted (code
//                                points); docs/metrics.md gives the official spread. WordNet is read from metadata "wordnet_dir"
//                                (default /usr/share/wordnet); a missing database throws, naming it.
//  loogle_cloze_exact / loogle_cloze_partial   shortdep_cloze: the prediction is eval()'d (a Python dict literal;
//                                anything else scores 0); of the reference's masks (the JSON object in the
//                                reference), the fraction whose predicted entity equals the gold one (exact), or
//                                shares a whitespace word with it (partial). Upstream pools the counts over the
//                                task (sum of matches / sum of masks); the report's mean is over QA pairs.
// BERTScore (bert_score with roberta-large) needs a neural model and is not computed.
#include "metrics/scorers/scorer_support.h"

#include "metrics/text/meteor.h"
#include "metrics/text/python_literal.h"
#include "metrics/text/rouge.h"
#include "metrics/text/unicode_text.h"

#include <cfloat>
#include <cmath>
#include <map>
#include <set>
#include <stdexcept>

namespace loom::metrics {
namespace {

using nlohmann::json;

// automatic_eval.py: <module> -> evaluation (depth 2) -> get_rouge_score (depth 3) -> Rouge.get_scores
const int kRougeBudget = text::pltrdy_budget_for_caller_depth(3);

std::string hypothesis_of(const std::string& prediction) { return prediction.empty() ? "None" : prediction; }

const std::string& single_reference(const std::vector<std::string>& references) {
  if (references.empty()) throw std::runtime_error("LooGLE rows carry one reference; this row has none");
  return references.front();
}

// nltk modified_precision for one reference: clipped n-gram matches and max(1, hypothesis n-grams).
std::pair<int64_t, int64_t> modified_precision(const std::vector<std::string>& ref, const std::vector<std::string>& hyp,
                                               size_t n) {
  auto grams = [n](const std::vector<std::string>& words) {
    std::map<std::vector<std::string>, int64_t> counts;
    if (words.size() >= n)
      for (size_t i = 0; i + n <= words.size(); ++i) ++counts[std::vector<std::string>(words.begin() + i, words.begin() + i + n)];
    return counts;
  };
  const auto hyp_counts = grams(hyp);
  const auto ref_counts = grams(ref);
  int64_t numerator = 0, total = 0;
  for (const auto& [gram, count] : hyp_counts) {
    auto it = ref_counts.find(gram);
    numerator += std::min(count, it == ref_counts.end() ? int64_t{0} : it->second);
    total += count;
  }
  return {numerator, std::max<int64_t>(1, total)};
}

// sentence_bleu([reference], hypothesis, weights) with one weight of 1 at order n (the others 0).
double nltk_bleu_at(const std::string& reference, const std::string& hypothesis, size_t n) {
  const std::vector<std::string> ref = text::py_split(std::string_view(reference));
  const std::vector<std::string> hyp = text::py_split(std::string_view(hypothesis));
  if (modified_precision(ref, hyp, 1).first == 0) return 0.0;
  const auto [numerator, denominator] = modified_precision(ref, hyp, n);
  const double p = numerator == 0 ? DBL_MIN : static_cast<double>(numerator) / static_cast<double>(denominator);
  const size_t c = hyp.size(), r = ref.size();
  const double bp = c > r ? 1.0 : c == 0 ? 0.0 : std::exp(1.0 - static_cast<double>(r) / static_cast<double>(c));
  return bp * std::exp(std::log(p));
}

double rouge_recall(const std::string& prediction, const std::vector<std::string>& references, int which) {
  const auto s = text::pltrdy_rouge(hypothesis_of(prediction), single_reference(references), kRougeBudget);
  if (!s) return 0.0;
  return which == 1 ? s->rouge1.r : which == 2 ? s->rouge2.r : s->rougel.r;
}

// The distinct words of text.split(), sorted by code point (upstream: set(text.split()) in hash order).
std::vector<std::string> distinct_words(const std::string& text) {
  const std::vector<std::string> words = text::py_split(std::string_view(text));
  const std::set<std::string> distinct(words.begin(), words.end());  // UTF-8 byte order = code point order
  return std::vector<std::string>(distinct.begin(), distinct.end());
}

double meteor(const std::string& prediction, const std::vector<std::string>& references, const json& metadata) {
  const std::string dir = metadata_string(metadata, "wordnet_dir", text::WordNet::kDefaultDir);
  const auto wordnet = text::WordNet::open(dir);
  return text::nltk_single_meteor(distinct_words(single_reference(references)),
                                  distinct_words(hypothesis_of(prediction)), *wordnet);
}

// get_exact_match / get_partial_match for one QA pair: matched masks / masks.
double cloze(const std::string& prediction, const std::vector<std::string>& references, bool partial) {
  const json gold = json::parse(single_reference(references));
  if (!gold.is_object()) throw std::runtime_error("a LooGLE cloze reference is a JSON object of masks");
  if (gold.empty()) return 0.0;
  const auto parsed = text::parse_python_literal(hypothesis_of(prediction));
  if (!parsed || !parsed->is_object()) return 0.0;
  int64_t matched = 0;
  for (const auto& [mask, entity] : gold.items()) {
    auto it = parsed->find(mask);
    if (it == parsed->end() || !it->is_string() || !entity.is_string()) continue;
    const std::string predicted = it->get<std::string>();
    const std::string truth = entity.get<std::string>();
    if (!partial) {
      matched += predicted == truth ? 1 : 0;
      continue;
    }
    const auto truth_words = text::py_split(std::string_view(truth));
    const std::set<std::string> truth_set(truth_words.begin(), truth_words.end());
    for (const std::string& word : text::py_split(std::string_view(predicted)))
      if (truth_set.count(word)) {
        ++matched;
        break;
      }
  }
  return static_cast<double>(matched) / static_cast<double>(gold.size());
}

}  // namespace

std::vector<ScorerEntry> loogle_scorers() {
  return {
      {"loogle_bleu1",
       [](const std::string& p, const std::vector<std::string>& r, const json&) {
         return nltk_bleu_at(single_reference(r), hypothesis_of(p), 1);
       }},
      {"loogle_bleu4",
       [](const std::string& p, const std::vector<std::string>& r, const json&) {
         return nltk_bleu_at(single_reference(r), hypothesis_of(p), 4);
       }},
      {"loogle_rouge1", [](const std::string& p, const std::vector<std::string>& r, const json&) { return rouge_recall(p, r, 1); }},
      {"loogle_rouge2", [](const std::string& p, const std::vector<std::string>& r, const json&) { return rouge_recall(p, r, 2); }},
      {"loogle_rougel", [](const std::string& p, const std::vector<std::string>& r, const json&) { return rouge_recall(p, r, 3); }},
      {"loogle_meteor", meteor},
      {"loogle_cloze_exact", [](const std::string& p, const std::vector<std::string>& r, const json&) { return cloze(p, r, false); }},
      {"loogle_cloze_partial", [](const std::string& p, const std::vector<std::string>& r, const json&) { return cloze(p, r, true); }},
  };
}

}  // namespace loom::metrics
