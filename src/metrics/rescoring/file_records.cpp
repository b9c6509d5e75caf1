#include "metrics/rescoring/file_records.h"

#include "common/error.h"
#include "metrics/text/unicode_text.h"

#include <cmath>
#include <fstream>
#include <iterator>

namespace loom::metrics::rescoring {

using nlohmann::json;

std::vector<json> read_jsonl_records(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path.string(), 0, "", "a readable JSON-lines prediction file");
  std::vector<json> out;
  std::string line;
  int line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (text::py_strip(line).empty()) continue;
    try {
      out.push_back(json::parse(line));
    } catch (const json::parse_error& e) {
      throw InputError(path.string(), line_no, "", std::string("one JSON object per line (") + e.what() + ")");
    }
    if (!out.back().is_object()) throw InputError(path.string(), line_no, "", "a JSON object");
  }
  if (out.empty()) throw InputError(path.string(), 0, "", "at least one prediction record");
  return out;
}

const json& field(const json& record, const std::vector<std::string>& keys, const std::filesystem::path& file,
                  int line) {
  for (const auto& k : keys)
    if (record.contains(k)) return record.at(k);
  std::string names;
  for (const auto& k : keys) names += (names.empty() ? "'" : " or '") + k + "'";
  throw InputError(file.string(), line, keys.front(), "a field " + names);
}

std::string string_field(const json& record, const std::vector<std::string>& keys, const std::filesystem::path& file,
                         int line) {
  const json& v = field(record, keys, file, line);
  if (!v.is_string()) throw InputError(file.string(), line, keys.front(), "a string");
  return v.get<std::string>();
}

std::string stem_before(const std::filesystem::path& file, const std::string& suffix) {
  std::string name = file.filename().string();
  if (name.size() > suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0)
    return name.substr(0, name.size() - suffix.size());
  return name;
}

// The scorer's official aggregation (the one the metrics pass prints) over the file's samples.
double official_task_score(const Scorer& scorer, const std::string& task, const std::vector<TaskSample>& samples) {
  const std::shared_ptr<const OfficialAggregation> aggregation = scorer.aggregation();
  LOOM_CHECK(aggregation != nullptr, "scorer '{}' has no official aggregation", scorer.name());
  return aggregation->task_score(task, samples);
}

RescoreResult make_result(std::string benchmark, std::string task, std::string file, std::string metric,
                          std::string scale) {
  RescoreResult r;
  r.benchmark = std::move(benchmark);
  r.task = std::move(task);
  r.file = std::move(file);
  r.metric = std::move(metric);
  r.scale = std::move(scale);
  return r;
}

// result.py reads the whole file as one JSON value first and falls back to JSON lines.
std::vector<json> read_json_or_jsonl_records(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path.string(), 0, "", "a readable prediction file");
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const json whole = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (whole.is_discarded()) return read_jsonl_records(path);
  if (!whole.is_array()) throw InputError(path.string(), 1, "", "a JSON list of prediction records or JSON lines");
  if (whole.empty()) throw InputError(path.string(), 0, "", "at least one prediction record");
  for (size_t i = 0; i < whole.size(); ++i)
    if (!whole[i].is_object())
      throw InputError(path.string(), 0, "", "a JSON object at list index " + std::to_string(i));
  return std::vector<json>(whole.begin(), whole.end());
}

double python_round(double x, int digits) {
  const double scale = std::pow(10.0, digits);
  return std::nearbyint(x * scale) / scale;
}

}  // namespace loom::metrics::rescoring
