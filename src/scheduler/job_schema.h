// Every job-file key, declared once: dotted path, type, default, allowed values and help. The parser
// (job_parser.cpp) validates against this table, reads defaults from it, and `loom_mpi validate --keys` prints it;
// tests check that docs/job-file.md documents every entry. "benchmarks[]" and "acceleration[]" are list entries.
#pragma once

#include <string>
#include <vector>

namespace loom::scheduler {

enum class ValueType {
  kString,
  kPath,        // string, resolved against the job file's directory
  kInt,
  kFloat,
  kBool,
  kStringList,  // a string or a list of strings
  kLengthList,  // an integer or a list; each an integer or a string such as "4K", "128k" (x1024), "1M"
  kObject,      // a free-form mapping, kept as JSON (method params, benchmark options)
  kSection,     // a mapping of the keys declared under it
  kSectionList, // a list of mappings of the keys declared under "<key>[]"
  kMethods,     // `acceleration`: a method name, one mapping, or a list of names/mappings
};

struct KeySpec {
  std::string key;            // "model.path", "benchmarks[].lengths"
  ValueType type;
  std::string default_value;  // as written in docs; empty when none
  std::string choices;        // "a|b|c" when the value is one of a fixed set, else empty
  std::string help;
  bool required = false;
};

const std::vector<KeySpec>& job_schema();
const KeySpec* find_key(const std::string& key);
// Keys directly under `parent` ("" for the top level, "model", "benchmarks[]").
std::vector<const KeySpec*> child_keys(const std::string& parent);
std::string type_name(ValueType type);

}  // namespace loom::scheduler
