// BAMBOO (RUCAIBox/BAMBOO evaluate.py; LOOM-Scope's benchmarks/General/BAMBOO/utils/evaluation/matrics.py holds the
// same functions), per sample on 0-1:
//  bamboo_altqa: altqa_accuracy, 1 when the whole response and the reference, each strip()ped, strip(".")ped and
//    lower()ed, are equal (altqa).
//  bamboo_speaker: pred_accuracy, the same on the response's first line only (meetingpred, showspred).
//  bamboo_choice: qa_accuracy, the first character of the strip()ped response read as A/B/C/D (a/b/c/d too; anything
//    else is 'F'), 1 when it is the reference letter (meetingqa, paperqa). An empty response makes upstream raise
//    IndexError; it scores 0 here.
//  bamboo_concordance: concordinary_index, for reportsumsort / showssort. The response's integers (re.findall(\d+),
//    as LOOM-Scope's postprocess and run_for_transformers.py parse it) form the predicted order, shifted down by
//    one when their minimum is 1; the score is the share of the reference's ordered pairs (i before j) found among
//    the prediction's ordered pairs. A prediction whose length differs from the reference's is a format error and
//    scores 0 (upstream counts it in the denominator, not in the sum). References: the order, one integer each.
//  bamboo_hallu / bamboo_hallu_said_yes (senhallu, abshallu): the response says yes when the first three characters
//    of the strip()ped response, lower()ed, contain "yes". bamboo_hallu = 1 when that agrees with the reference
//    (True / False), bamboo_hallu_said_yes = 1 when it says yes. The official task score is sklearn's f1_score over
//    the task (positive class True): the aggregation rebuilds the confusion counts from the two metrics (said yes
//    and right: TP; said yes and wrong: FP; said no and wrong: FN), so a task lists both metrics, bamboo_hallu first.
// The other tasks' official scores are 100 x the mean (accuracy; mean concordance index).
// private_eval (pass@1 of generated code run against test suites) is not scored: docs/metrics.md.
#include "metrics/scorers/scorer_support.h"

#include "metrics/text/unicode_text.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <set>
#include <utility>

namespace loom::metrics {

namespace {

// s.strip().strip(".").lower()
std::string answer_form(const std::string& s) { return text::py_lower(text::strip_chars(text::py_strip(s), ".")); }

double altqa(const std::string& prediction, const std::vector<std::string>& references, const nlohmann::json&) {
  if (references.empty()) return 0.0;
  return answer_form(prediction) == answer_form(references.front()) ? 1.0 : 0.0;
}

double speaker(const std::string& prediction, const std::vector<std::string>& references, const nlohmann::json&) {
  if (references.empty()) return 0.0;
  const std::string first_line = prediction.substr(0, prediction.find('\n'));
  return answer_form(first_line) == answer_form(references.front()) ? 1.0 : 0.0;
}

double choice(const std::string& prediction, const std::vector<std::string>& references, const nlohmann::json&) {
  if (references.empty()) return 0.0;
  // pred.strip().split('\n')[0].strip(' ')[0]: the first code point of the stripped response.
  const std::u32string stripped = text::to_u32(text::py_strip(prediction));
  if (stripped.empty()) return 0.0;  // upstream: IndexError
  std::string letter = "F";
  switch (stripped.front()) {
    case U'A': case U'a': letter = "A"; break;
    case U'B': case U'b': letter = "B"; break;
    case U'C': case U'c': letter = "C"; break;
    case U'D': case U'd': letter = "D"; break;
    default: break;
  }
  return letter == references.front() ? 1.0 : 0.0;
}

// int() of a run of Unicode decimal digits; values past int64 saturate (they can equal no reference position).
int64_t digit_value(const std::string& run) {
  int64_t value = 0;
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max() / 16;
  for (char32_t c : text::to_u32(run)) {
    // Unicode's decimal digits come in blocks of ten consecutive code points (0..9); adjacent blocks form one run,
    // so the value is the offset from the run's first code point, modulo ten.
    char32_t start = c;
    while (start > 0 && text::py_is_decimal_digit(start - 1)) --start;
    const int digit = static_cast<int>((c - start) % 10);
    value = value > kMax ? kMax : value * 10 + digit;
  }
  return value;
}

std::vector<int64_t> integers_in(const std::string& prediction) {
  std::vector<int64_t> out;
  for (const std::string& run : text::find_digit_runs(prediction)) out.push_back(digit_value(run));
  return out;
}

double concordance(const std::string& prediction, const std::vector<std::string>& references,
                   const nlohmann::json&) {
  std::vector<int64_t> right;
  for (const std::string& r : references) right.push_back(digit_value(r));
  const std::vector<int64_t> pred = integers_in(prediction);
  if (right.size() < 2) return 0.0;              // upstream divides by zero pairs
  if (pred.size() != right.size()) return 0.0;   // format error: counted, scored 0
  const bool shift = *std::min_element(pred.begin(), pred.end()) == 1;
  std::set<std::pair<int64_t, int64_t>> pred_pairs;
  for (size_t i = 0; i + 1 < pred.size(); ++i)
    for (size_t j = i + 1; j < pred.size(); ++j)
      pred_pairs.insert(shift ? std::make_pair(pred[i] - 1, pred[j] - 1) : std::make_pair(pred[i], pred[j]));
  std::set<std::pair<int64_t, int64_t>> right_pairs;
  for (size_t i = 0; i + 1 < right.size(); ++i)
    for (size_t j = i + 1; j < right.size(); ++j) right_pairs.insert({right[i], right[j]});
  size_t common = 0;
  for (const auto& p : right_pairs) common += pred_pairs.count(p);
  return static_cast<double>(common) / static_cast<double>(right_pairs.size());
}

// "yes" in pred.strip()[:3].lower()
bool said_yes(const std::string& prediction) {
  const std::u32string head = text::to_u32(text::py_strip(prediction)).substr(0, 3);
  return text::contains(text::py_lower(text::to_utf8(head)), "yes");
}

bool reference_true(const std::vector<std::string>& references) {
  return !references.empty() && (references.front() == "True" || references.front() == "true");
}

double hallu(const std::string& prediction, const std::vector<std::string>& references, const nlohmann::json&) {
  if (references.empty()) return 0.0;
  return said_yes(prediction) == reference_true(references) ? 1.0 : 0.0;
}

double hallu_said_yes(const std::string& prediction, const std::vector<std::string>&, const nlohmann::json&) {
  return said_yes(prediction) ? 1.0 : 0.0;
}

// sklearn f1_score(y_true, y_pred) with the positive class True, from the two per-sample metrics.
double hallu_f1(const std::string&, const std::vector<TaskSample>& samples) {
  double tp = 0, fp = 0, fn = 0;
  for (const TaskSample& s : samples) {
    auto value = [&](const char* metric) {
      auto it = s.metric_scores.find(metric);
      return it != s.metric_scores.end() && it->second >= 50.0;
    };
    const bool yes = value("bamboo_hallu_said_yes"), right = value("bamboo_hallu");
    if (yes && right) tp += 1;
    if (yes && !right) fp += 1;
    if (!yes && !right) fn += 1;
  }
  const double precision = tp + fp > 0 ? tp / (tp + fp) : 0.0, recall = tp + fn > 0 ? tp / (tp + fn) : 0.0;
  return precision + recall > 0 ? 100.0 * 2 * precision * recall / (precision + recall) : 0.0;
}

}  // namespace

std::vector<ScorerEntry> bamboo_scorers() {
  std::vector<ScorerEntry> out = with_aggregation(
      {{"bamboo_altqa", altqa}, {"bamboo_speaker", speaker}, {"bamboo_choice", choice},
       {"bamboo_concordance", concordance}},
      mean_aggregation("BAMBOO evaluate.py: accuracy / concordance index = 100 x mean over the task's samples"));
  const auto f1 = std::make_shared<const OfficialAggregation>(OfficialAggregation{
      "BAMBOO evaluate.py: sklearn f1_score over the task (positive class True; from bamboo_hallu and "
      "bamboo_hallu_said_yes)",
      hallu_f1});
  out.push_back({"bamboo_hallu", hallu, f1});
  out.push_back({"bamboo_hallu_said_yes", hallu_said_yes, f1});
  return out;
}

}  // namespace loom::metrics
