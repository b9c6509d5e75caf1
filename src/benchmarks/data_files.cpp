#include "benchmarks/data_files.h"

#include "common/error.h"
#include "common/json_errors.h"
#include "benchmarks/text_util.h"

#include <fmt/format.h>

#include <fstream>

namespace loom::benchmarks {
namespace {

std::string spec_file(const BenchmarkSpec& spec) { return spec.source_file.empty() ? spec.name : spec.source_file; }

}  // namespace

std::filesystem::path require_data_dir(const BenchmarkSpec& spec, const std::string& published) {
  if (spec.data_dir.empty()) {
    throw InputError(spec_file(spec), spec.source_line, "benchmarks[].data_dir",
                     fmt::format("a data_dir for benchmark {} (its files are published at {})", spec.name, published));
  }
  if (!std::filesystem::is_directory(spec.data_dir)) {
    throw InputError(spec_file(spec), spec.source_line, "benchmarks[].data_dir",
                     fmt::format("an existing directory for benchmark {}; {} does not exist (files are published at "
                                 "{})",
                                 spec.name, spec.data_dir.string(), published));
  }
  return spec.data_dir;
}

std::filesystem::path require_data_file(const BenchmarkSpec& spec, const std::string& relative,
                                        const std::string& published) {
  if (spec.data_dir.empty()) {
    throw InputError(spec_file(spec), spec.source_line, "benchmarks[].data_dir",
                     fmt::format("a data_dir holding {} for benchmark {} (published at {})", relative, spec.name,
                                 published));
  }
  std::filesystem::path path = spec.data_dir / relative;
  if (!std::filesystem::is_regular_file(path)) {
    throw InputError(spec_file(spec), spec.source_line, "benchmarks[].data_dir",
                     fmt::format("the file {} for benchmark {} (expected at {}; published at {}; set data_dir to the "
                                 "folder that holds it)",
                                 relative, spec.name, path.string(), published));
  }
  return path;
}

std::vector<nlohmann::json> read_jsonl(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path.string(), 0, "", "a readable JSONL file");
  std::vector<nlohmann::json> records;
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (strip(line).empty()) continue;
    nlohmann::json value = nlohmann::json::parse(line, nullptr, false);
    if (value.is_discarded() || !value.is_object())
      throw InputError(path.string(), number, "", "one JSON object per line");
    value["__line"] = number;
    records.push_back(std::move(value));
  }
  return records;
}

nlohmann::json read_json(const std::filesystem::path& path) {
  const std::string text = read_text_file(path);
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    throw json_syntax_error(path.string(), e, text);
  }
}

namespace {

// {"<id>": {record}, ...} in file order (LongIns' data/<mode>/<length>.json); the key becomes the record's "id"
// unless it has one.
std::vector<nlohmann::json> keyed_records(const std::filesystem::path& path) {
  const nlohmann::ordered_json doc = nlohmann::ordered_json::parse(read_text_file(path));
  std::vector<nlohmann::json> records;
  records.reserve(doc.size());
  int number = 0;
  for (const auto& [key, value] : doc.items()) {
    ++number;
    if (!value.is_object())
      throw InputError(path.string(), 0, key, "a JSON object (a record) under every key of the file's object");
    nlohmann::json record = nlohmann::json::parse(value.dump());
    if (!record.contains("id")) record["id"] = key;
    record["__line"] = number;
    records.push_back(std::move(record));
  }
  return records;
}

}  // namespace

std::vector<nlohmann::json> read_records(const std::filesystem::path& path) {
  if (path.extension() == ".jsonl") return read_jsonl(path);
  nlohmann::json doc = read_json(path);
  if (doc.is_object() && doc.contains("data")) doc = doc["data"];
  if (doc.is_object() && !doc.empty()) return keyed_records(path);
  if (!doc.is_array()) throw InputError(path.string(), 1, "", "a JSON array of records");
  std::vector<nlohmann::json> records;
  records.reserve(doc.size());
  int number = 0;
  for (auto& item : doc) {
    ++number;
    if (!item.is_object()) throw InputError(path.string(), 0, fmt::format("[{}]", number - 1), "a JSON object");
    item["__line"] = number;
    records.push_back(std::move(item));
  }
  return records;
}

std::string record_string(const nlohmann::json& record, const std::string& field, const std::filesystem::path& file,
                          int line) {
  auto it = record.find(field);
  if (it == record.end() || it->is_null())
    throw InputError(file.string(), line, field, fmt::format("a field `{}` in every record", field));
  return json_to_text(*it);
}

}  // namespace loom::benchmarks
