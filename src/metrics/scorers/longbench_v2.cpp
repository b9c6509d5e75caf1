// LongBench v2 accuracy (THUDM/LongBench pred.py extract_answer + result.py). The answer letter is taken from the
// output with '*' removed: "The correct answer is (X)", else "The correct answer is X" (X in A-D), else none.
// Score 1 when it equals the gold letter (metadata "answer", else references[0]). metadata "compensated": true gives
// 0.25 to outputs without a letter (result.py's compensated mode). The easy/hard and short/medium/long columns are
// aggregation keys (metadata "difficulty", "length") handled by the report. Upstream drops samples whose output is
// empty from the denominator; a per-sample scorer cannot, so an empty output scores 0 here (see docs/metrics.md).
#include "metrics/scorers/scorer_support.h"

#include "metrics/text/unicode_text.h"

#include <optional>

namespace loom::metrics {

namespace {

std::optional<char> extract_letter(const std::string& response) {
  const std::string text = text::replace_all(response, "*", "");
  const std::string marker = "The correct answer is ";
  for (size_t pos = text.find(marker + "("); pos != std::string::npos; pos = text.find(marker + "(", pos + 1)) {
    size_t p = pos + marker.size() + 1;
    if (p + 1 < text.size() && text[p] >= 'A' && text[p] <= 'D' && text[p + 1] == ')')
      return text[p];
  }
  for (size_t pos = text.find(marker); pos != std::string::npos; pos = text.find(marker, pos + 1)) {
    size_t p = pos + marker.size();
    if (p < text.size() && text[p] >= 'A' && text[p] <= 'D') return text[p];
  }
  return std::nullopt;
}

}  // namespace

std::vector<ScorerEntry> longbench_v2_scorers() {
  return {{"longbench_v2_accuracy",
           [](const std::string& prediction, const std::vector<std::string>& references, const nlohmann::json& meta) {
             std::string gold = metadata_string(meta, "answer");
             if (gold.empty() && !references.empty()) gold = references[0];
             auto letter = extract_letter(prediction);
             if (!letter) return metadata_bool(meta, "compensated") ? 0.25 : 0.0;
             return gold == std::string(1, *letter) ? 1.0 : 0.0;
           }}};
}

}  // namespace loom::metrics
