// L-CiteEval answer-quality scorers (ZetangForward/L-CITEEVAL script/eval_correct.py). Citation precision /
// recall need an NLI model: metrics/judged/lciteeval_citation.h, asked by metrics/judge/nli_pass.h.
// All read the first line of generation.strip() and remove citations (" [12", "[12", " |", "]").
//  lciteeval_qa_f1        (narrativeqa, natural_questions, hotpotqa, 2wikimultihopqa, dialsim, locomo): SQuAD F1,
//                         max over the answers.
//  lciteeval_rouge_l      (gov_report, multi_news, qmsum): if "summary" occurs in the first 100 characters
//                         (lowercased) everything up to the first ':' is cut (no ':' -> 0); empty -> 0; pltrdy
//                         rouge-l F, max over the answers.
//  lciteeval_niah         pltrdy rouge-1 recall, max over the answers.
//  lciteeval_counting_stars  JSON from the first '{' to the first '}'; little_penguin cut to len(gold);
//                         fraction of values that are gold counts (duplicates count). Gold = references (ints).
#include "metrics/judged/lciteeval_citation.h"
#include "metrics/scorers/json_answer.h"
#include "metrics/scorers/scorer_support.h"

#include "metrics/text/normalize.h"
#include "metrics/text/rouge.h"
#include "metrics/text/unicode_text.h"

#include <algorithm>

namespace loom::metrics {

namespace {

using nlohmann::json;

// eval_correct.py: <module> -> rouge_score (depth 2) -> Rouge.get_scores
const int kRougeBudget = text::pltrdy_budget_for_caller_depth(2);

std::string first_line(const std::string& generation) {
  return text::split_on(text::py_strip(generation), "\n")[0];
}

std::string remove_citations(const std::string& s) { return judged::lciteeval_remove_citations(s); }

double qa_f1(const std::string& generation, const std::vector<std::string>& answers, const json&) {
  const std::string ans = remove_citations(first_line(generation));
  return max_over_references(answers, [&](const std::string& a) { return text::squad_f1(ans, a); });
}

double summary_rouge(const std::string& generation, const std::vector<std::string>& answers, const json&) {
  std::string ans = text::py_strip(generation);
  const std::u32string u = text::to_u32(ans);
  if (text::contains(text::py_lower(text::to_utf8(std::u32string_view(u).substr(0, 100))), "summary")) {
    size_t colon = ans.find(':');
    if (colon == std::string::npos) return 0.0;
    ans = text::py_strip(ans.substr(colon + 1));
  }
  ans = remove_citations(text::split_on(ans, "\n")[0]);
  if (ans.empty()) return 0.0;
  return max_over_references(answers, [&](const std::string& a) {
    auto s = text::pltrdy_rouge(ans, a, kRougeBudget);
    return s ? s->rougel.f : 0.0;
  });
}

double niah_recall(const std::string& generation, const std::vector<std::string>& answers, const json&) {
  const std::string ans = remove_citations(first_line(generation));
  return max_over_references(answers, [&](const std::string& a) {
    auto s = text::pltrdy_rouge(ans, a, kRougeBudget);
    return s ? s->rouge1.r : 0.0;
  });
}

double counting_stars_acc(const std::string& generation, const std::vector<std::string>& references, const json& meta) {
  json gold = json::array();
  if (meta.is_object() && meta.contains("gold_counts")) {
    gold = meta.at("gold_counts");
  } else {
    for (const auto& r : references) {
      try {
        gold.push_back(json::parse(r));
      } catch (const json::exception&) {
        gold.push_back(r);
      }
    }
  }
  if (!gold.is_array() || gold.empty()) return 0.0;
  const std::string ans = text::py_strip(generation);
  const size_t a = ans.find('{'), b = ans.find('}');
  if (a == std::string::npos || b == std::string::npos || b < a) return 0.0;
  json obj;
  try {
    obj = json::parse(ans.substr(a, b - a + 1));
  } catch (const json::exception&) {
    return 0.0;
  }
  if (!obj.is_object() || !obj.contains("little_penguin") || !obj.at("little_penguin").is_array()) return 0.0;
  const json& values = obj.at("little_penguin");
  size_t correct = 0;
  for (size_t i = 0; i < values.size() && i < gold.size(); ++i) correct += json_list_contains(gold, values[i]);
  return static_cast<double>(correct) / static_cast<double>(gold.size());
}

}  // namespace

std::vector<ScorerEntry> lciteeval_scorers() {
  return {{"lciteeval_qa_f1", qa_f1},
          {"lciteeval_rouge_l", summary_rouge},
          {"lciteeval_niah", niah_recall},
          {"lciteeval_counting_stars", counting_stars_acc}};
}

}  // namespace loom::metrics
