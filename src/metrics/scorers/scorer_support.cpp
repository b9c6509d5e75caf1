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

}  // namespace loom::metrics
