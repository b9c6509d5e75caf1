// NoLiMa scorers (adobe-research/NoLiMa @ 7532e4e, evaluation/async_evaluate.py NoLiMa_Tester._evaluate_response),
// one per value of its `metric` argument; 1 or 0 per sample. The gold answers are the references: the selected
// character for needles with {CHAR}, else the test's gold_answers list.
//  nolima_em                 EM: response.strip() equals a gold answer
//  nolima_contains           contains: some gold answer is a (case-sensitive) substring of the response (the
//                            metric of every official run config)
//  nolima_lastline_em        lastline_EM: the last line of response.strip() equals a gold answer
//  nolima_lastline_contains  lastline_contains: some gold answer is a substring of that last line
// A needle set whose test gives gold_answers as one string (not a list) is compared as Python does with a str:
// the loader sets metadata gold_answers_text; EM is then a substring test of the response in it, contains a test of
// any of its characters in the response.
#include "metrics/scorers/scorer_support.h"

#include "metrics/text/unicode_text.h"

namespace loom::metrics {

namespace {

using namespace text;

std::string last_line(const std::string& response) { return split_on(py_strip(response), "\n").back(); }

double exact(const std::string& candidate, const std::vector<std::string>& gold, const nlohmann::json& meta) {
  if (meta.is_object() && meta.contains("gold_answers_text") && meta["gold_answers_text"].is_string())
    return contains(meta["gold_answers_text"].get<std::string>(), candidate) ? 1.0 : 0.0;
  for (const auto& g : gold)
    if (g == candidate) return 1.0;
  return 0.0;
}

double any_in(const std::string& text, const std::vector<std::string>& gold, const nlohmann::json& meta) {
  if (meta.is_object() && meta.contains("gold_answers_text") && meta["gold_answers_text"].is_string()) {
    for (char32_t c : to_u32(meta["gold_answers_text"].get<std::string>()))
      if (contains(text, to_utf8(c))) return 1.0;
    return 0.0;
  }
  for (const auto& g : gold)
    if (contains(text, g)) return 1.0;
  return 0.0;
}

}  // namespace

std::vector<ScorerEntry> nolima_scorers() {
  std::vector<ScorerEntry> out;
  out.push_back({"nolima_em", [](const std::string& p, const std::vector<std::string>& refs,
                                 const nlohmann::json& meta) { return exact(py_strip(p), refs, meta); }});
  out.push_back({"nolima_contains", [](const std::string& p, const std::vector<std::string>& refs,
                                       const nlohmann::json& meta) { return any_in(p, refs, meta); }});
  out.push_back({"nolima_lastline_em", [](const std::string& p, const std::vector<std::string>& refs,
                                          const nlohmann::json& meta) { return exact(last_line(p), refs, meta); }});
  out.push_back({"nolima_lastline_contains", [](const std::string& p, const std::vector<std::string>& refs,
                                                const nlohmann::json& meta) { return any_in(last_line(p), refs, meta); }});
  return with_aggregation(std::move(out),
                          mean_aggregation("NoLiMa: accuracy = 100 x mean over the tests' depth placements"));
}

}  // namespace loom::metrics
