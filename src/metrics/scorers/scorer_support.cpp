#include "metrics/scorers/scorer_support.h"

#include <algorithm>

namespace loom::metrics {

double max_over_references(const std::vector<std::string>& references,
                           const std::function<double(const std::string&)>& per_reference) {
  double best = 0.0;
  for (const auto& r : references) best = std::max(best, per_reference(r));
  return best;
}

std::string metadata_string(const nlohmann::json& metadata, const std::string& key, const std::string& fallback) {
  if (!metadata.is_object()) return fallback;
  auto it = metadata.find(key);
  if (it == metadata.end() || it->is_null()) return fallback;
  return python_str(*it);
}

bool metadata_bool(const nlohmann::json& metadata, const std::string& key, bool fallback) {
  if (!metadata.is_object()) return fallback;
  auto it = metadata.find(key);
  if (it == metadata.end() || it->is_null()) return fallback;
  if (it->is_boolean()) return it->get<bool>();
  if (it->is_number()) return it->get<double>() != 0;
  return fallback;
}

std::vector<std::string> metadata_strings(const nlohmann::json& metadata, const std::string& key) {
  std::vector<std::string> out;
  if (!metadata.is_object()) return out;
  auto it = metadata.find(key);
  if (it == metadata.end() || it->is_null()) return out;
  if (it->is_array()) {
    for (const auto& v : *it) out.push_back(python_str(v));
  } else {
    out.push_back(python_str(*it));
  }
  return out;
}

std::string python_str(const nlohmann::json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_boolean()) return value.get<bool>() ? "True" : "False";
  if (value.is_null()) return "None";
  if (value.is_number_integer() || value.is_number_unsigned()) return value.dump();
  return value.dump();
}

double mean_task_score(const std::vector<TaskSample>& samples) {
  if (samples.empty()) return 0;
  double total = 0;
  for (const TaskSample& sample : samples) {
    double sum = 0;
    for (const auto& [metric, value] : sample.metric_scores) sum += value;
    if (!sample.metric_scores.empty()) total += sum / static_cast<double>(sample.metric_scores.size());
  }
  return total / static_cast<double>(samples.size());
}

std::shared_ptr<const OfficialAggregation> mean_aggregation(std::string rule) {
  return std::make_shared<const OfficialAggregation>(OfficialAggregation{
      std::move(rule), [](const std::string&, const std::vector<TaskSample>& samples) {
        return mean_task_score(samples);
      }});
}

std::vector<ScorerEntry> with_aggregation(std::vector<ScorerEntry> entries,
                                          const std::shared_ptr<const OfficialAggregation>& aggregation) {
  for (ScorerEntry& entry : entries) entry.aggregation = aggregation;
  return entries;
}

}  // namespace loom::metrics
