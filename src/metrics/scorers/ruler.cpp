// RULER scorers (NVIDIA/RULER scripts/eval/synthetic/constants.py + evaluate.py). The prediction is first
// post-processed: strip(), every control character [\x00-\x1f] -> "\n", strip() again.
//  string_match_all: fraction of references r with r.lower() in pred.lower().
//  string_match_part: 1 if any reference is a case-insensitive substring, else 0.
#include "metrics/scorers/scorer_support.h"

#include "metrics/text/unicode_text.h"

namespace loom::metrics {

namespace {

std::string ruler_postprocess(const std::string& prediction) {
  std::string s = text::py_strip(prediction);
  for (char& c : s)
    if (static_cast<unsigned char>(c) < 0x20) c = '\n';
  return text::py_strip(s);
}

}  // namespace

std::vector<ScorerEntry> ruler_scorers() {
  std::vector<ScorerEntry> out;
  out.push_back({"string_match_all", [](const std::string& prediction, const std::vector<std::string>& references,
                                        const nlohmann::json&) {
                   if (references.empty()) return 0.0;
                   const std::string pred = text::py_lower(ruler_postprocess(prediction));
                   double hits = 0;
                   for (const auto& r : references) hits += text::contains(pred, text::py_lower(r)) ? 1.0 : 0.0;
                   return hits / static_cast<double>(references.size());
                 }});
  out.push_back({"string_match_part", [](const std::string& prediction, const std::vector<std::string>& references,
                                         const nlohmann::json&) {
                   const std::string pred = text::py_lower(ruler_postprocess(prediction));
                   for (const auto& r : references)
                     if (text::contains(pred, text::py_lower(r))) return 1.0;
                   return 0.0;
                 }});
  return out;
}

}  // namespace loom::metrics
