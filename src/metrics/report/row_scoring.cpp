#include "metrics/report/row_scoring.h"

#include "common/error.h"

namespace loom::metrics::report {
namespace {

std::string trim(const std::string& text) {
  const auto begin = text.find_first_not_of(" \t");
  if (begin == std::string::npos) return "";
  const auto end = text.find_last_not_of(" \t");
  return text.substr(begin, end - begin + 1);
}

std::vector<std::string> parse_references(const std::string& text) {
  if (text.empty()) return {};
  nlohmann::json parsed = nlohmann::json::parse(text);
  if (parsed.is_string()) return {parsed.get<std::string>()};
  if (!parsed.is_array()) throw std::runtime_error("references_json is neither a JSON array nor a string");
  std::vector<std::string> out;
  for (const auto& item : parsed) out.push_back(item.is_string() ? item.get<std::string>() : item.dump());
  return out;
}

}  // namespace

std::vector<std::string> split_metric_names(const std::string& metric_column) {
  std::vector<std::string> names;
  size_t start = 0;
  for (;;) {
    const size_t comma = metric_column.find(',', start);
    std::string name = trim(metric_column.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (!name.empty()) names.push_back(std::move(name));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return names;
}

const Scorer& RowScorer::scorer(const std::string& name) {
  auto it = scorers_.find(name);
  if (it == scorers_.end()) it = scorers_.emplace(name, factory_(name)).first;
  return *it->second;
}

ScoredRow RowScorer::score(const results::ResultRow& row) {
  ScoredRow out;
  out.sample_key = row.sample_key;
  out.method = row.method;
  out.benchmark = row.benchmark;
  out.task = row.task;
  out.capability = row.capability;
  out.sample_index = row.sample_index;
  out.target_length = row.target_length;
  out.context_length = row.context_length;
  out.method_params_json = row.method_params_json;
  out.generated = row.status == "ok";
  out.cost = row.cost;

  const std::vector<std::string> names = split_metric_names(row.metric);
  if (names.empty())
    throw InputError(row.sample_key, 0, "metric", "a scorer name in the metric column of every results row");
  for (const auto& name : names) scorer(name);  // unknown names fail loudly, even on failed rows
  out.official = scorer(names.front()).aggregation();

  auto fail = [&](std::string reason) {
    out.failed = true;
    out.error = std::move(reason);
    out.score = 0;
    for (const auto& name : names) out.metric_scores[name] = 0;
    return out;
  };
  const nlohmann::json depth_source = nlohmann::json::parse(row.metadata_json, nullptr, false);  // no throw
  if (depth_source.is_object() && depth_source.contains("depth_percent") && depth_source["depth_percent"].is_number())
    out.depth_percent = depth_source["depth_percent"].get<double>();
  if (row.status != "ok") return fail(row.error.empty() ? row.status : row.error);
  try {
    const std::vector<std::string> references = parse_references(row.references_json);
    const nlohmann::json metadata =
        row.metadata_json.empty() ? nlohmann::json::object() : nlohmann::json::parse(row.metadata_json);
    double total = 0;
    for (const auto& name : names) {
      const double value = 100.0 * scorer(name).score(row.prediction, references, metadata);
      out.metric_scores[name] = value;
      total += value;
    }
    out.score = total / static_cast<double>(names.size());
  } catch (const std::exception& e) {
    return fail(std::string("scoring failed: ") + e.what());
  }
  return out;
}

}  // namespace loom::metrics::report
