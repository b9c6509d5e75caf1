// Locating and reading benchmark data files under a job's `data_dir`. A missing file is an InputError that names
// the expected file, where it is published and the job key to set; a malformed line names the file and line.
#pragma once

#include "benchmarks/registry.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace loom::benchmarks {

// <spec.data_dir>/<relative>, or an InputError pointing at the job entry (key `benchmarks[].data_dir`) that says
// which file is expected and where it is published (`published`, e.g. "HF dataset THUDM/LongBench, data.zip").
std::filesystem::path require_data_file(const BenchmarkSpec& spec, const std::string& relative,
                                        const std::string& published);
// The data_dir itself (for directory layouts), with the same kind of error when it does not exist.
std::filesystem::path require_data_dir(const BenchmarkSpec& spec, const std::string& published);

// One JSON object per non-empty line; a bad line → InputError(file, line).
std::vector<nlohmann::json> read_jsonl(const std::filesystem::path& path);
// A whole JSON document; a parse error → InputError(file, line of the error).
nlohmann::json read_json(const std::filesystem::path& path);
// .jsonl → read_jsonl; .json → a JSON array of records (or {"data": [...]}), or an object of records keyed by id
// (file order kept; the key becomes "id" where the record has none).
std::vector<nlohmann::json> read_records(const std::filesystem::path& path);

// A string field of a record, or an InputError naming file, line (1-based record number for jsonl) and field.
std::string record_string(const nlohmann::json& record, const std::string& field, const std::filesystem::path& file,
                          int line);

}  // namespace loom::benchmarks
