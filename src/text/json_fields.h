// Typed access to tokenizer.json / tokenizer_config.json fields. Every failure is a loom::InputError naming the file
// and the dotted key path ("pre_tokenizer.pretokenizers[0].pattern"), so users see exactly what is wrong.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace loom::text {

using Json = nlohmann::json;

// Where a JSON value came from: the file and the key path of the value.
struct JsonPath {
  std::string file;
  std::string key;

  JsonPath operator/(const std::string& child) const { return {file, key.empty() ? child : key + "." + child}; }
  JsonPath operator[](size_t index) const { return {file, key + "[" + std::to_string(index) + "]"}; }

  [[noreturn]] void fail(const std::string& expected) const;
};

// The object member `name` of `object`; missing → InputError.
const Json& require_member(const Json& object, const char* name, const JsonPath& path);
std::string require_string(const Json& object, const char* name, const JsonPath& path);
bool optional_bool(const Json& object, const char* name, bool fallback, const JsonPath& path);
// Member that may be absent or null; an empty string means "absent or null".
std::string optional_string(const Json& object, const char* name, const JsonPath& path);
// The "type" member of a component object.
std::string component_type(const Json& component, const JsonPath& path);

// The regular expression (PCRE2 syntax) of a {"String": literal} or {"Regex": pattern} object.
std::string pattern_to_regex(const Json& pattern, const JsonPath& path);

// Reads and parses a JSON file; unreadable or malformed → InputError naming the file (and line for syntax errors).
Json read_json_file(const std::string& file);

}  // namespace loom::text
