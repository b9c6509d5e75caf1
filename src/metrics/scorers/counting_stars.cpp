// Counting-Stars scorers (nick7nlp/Counting-Stars viz.ipynb). The answer's JSON list under "little_penguin" (EN) or
// "小企鹅" (ZH, metadata "language": "zh") is cut to its first m values (m = number of references, 32 upstream).
//  counting_stars_searching: fraction of the m reference counts found in that list.
//  counting_stars_reasoning: per count i, 1 if only the correct count A[i] is listed, 0.5 if both A[i] and the
//    wrong first count R[i], 0.25 if only R[i], else 0; averaged over i. A = the references; R = metadata "r_stars"
//    (default: r_stars.txt["32"] from the official repository).
// References are the correct counts (metadata "reference_counting_results" as JSON numbers takes precedence).
// An answer without a parsable list scores 0 (the notebook raises instead).
#include "metrics/scorers/json_answer.h"
#include "metrics/scorers/scorer_support.h"
#include "metrics/text/unicode_text.h"

namespace loom::metrics {

namespace {

using nlohmann::json;

const std::vector<int>& default_wrong_counts() {
  // context_data/r_stars.txt, key "32": the first (wrong) count the little penguin reports in the reasoning task.
  static const std::vector<int> r = {16, 116, 43, 70, 59, 106, 8, 48, 112, 67, 25, 101, 82, 93, 76, 62,
                                     6,  18,  108, 4, 34, 53,  85, 90, 126, 22, 45, 121, 39, 96, 75, 30};
  return r;
}

json counts_from(const std::vector<std::string>& references, const json& meta) {
  if (meta.is_object() && meta.contains("reference_counting_results")) return meta.at("reference_counting_results");
  json out = json::array();
  for (const auto& r : references) {
    try {
      out.push_back(json::parse(r));
    } catch (const json::exception&) {
      out.push_back(r);
    }
  }
  return out;
}

std::optional<json> predicted_counts(const std::string& prediction, const json& meta, size_t m) {
  const bool zh = text::ascii_lower(metadata_string(meta, "language")) == "zh";
  auto value = counting_stars_value(prediction, zh ? "小企鹅" : "little_penguin", zh);
  if (!value || !value->is_array()) return std::nullopt;
  json truncated = json::array();
  for (size_t i = 0; i < value->size() && i < m; ++i) truncated.push_back((*value)[i]);
  return truncated;
}

double searching(const std::string& prediction, const std::vector<std::string>& references, const json& meta) {
  const json counts = counts_from(references, meta);
  if (!counts.is_array() || counts.empty()) return 0.0;
  auto predicted = predicted_counts(prediction, meta, counts.size());
  if (!predicted) return 0.0;
  double total = 0;
  for (const auto& c : counts) total += json_list_contains(*predicted, c) ? 1.0 : 0.0;
  return total / static_cast<double>(counts.size());
}

double reasoning(const std::string& prediction, const std::vector<std::string>& references, const json& meta) {
  const json counts = counts_from(references, meta);
  if (!counts.is_array() || counts.empty()) return 0.0;
  json wrong = meta.is_object() && meta.contains("r_stars") ? meta.at("r_stars") : json(default_wrong_counts());
  auto predicted = predicted_counts(prediction, meta, counts.size());
  if (!predicted) return 0.0;
  double total = 0;
  for (size_t i = 0; i < counts.size(); ++i) {
    const bool a = json_list_contains(*predicted, counts[i]);
    const bool r = i < wrong.size() && json_list_contains(*predicted, wrong[i]);
    total += a && r ? 0.5 : a ? 1.0 : r ? 0.25 : 0.0;
  }
  return total / static_cast<double>(counts.size());
}

}  // namespace

std::vector<ScorerEntry> counting_stars_scorers() {
  return {{"counting_stars_searching", searching}, {"counting_stars_reasoning", reasoning}};
}

}  // namespace loom::metrics
