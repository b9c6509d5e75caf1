#include "text/json_fields.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "common/error.h"
#include "common/json_errors.h"
#include "text/regex.h"

namespace loom::text {

void JsonPath::fail(const std::string& expected) const { throw InputError(file, 0, key, expected); }

const Json& require_member(const Json& object, const char* name, const JsonPath& path) {
  if (!object.is_object()) path.fail("expected a JSON object");
  const auto it = object.find(name);
  if (it == object.end()) (path / name).fail("required key is missing");
  return *it;
}

std::string require_string(const Json& object, const char* name, const JsonPath& path) {
  const Json& value = require_member(object, name, path);
  if (!value.is_string()) (path / name).fail("expected a string");
  return value.get<std::string>();
}

bool optional_bool(const Json& object, const char* name, bool fallback, const JsonPath& path) {
  if (!object.is_object()) path.fail("expected a JSON object");
  const auto it = object.find(name);
  if (it == object.end() || it->is_null()) return fallback;
  if (!it->is_boolean()) (path / name).fail("expected true or false");
  return it->get<bool>();
}

std::string optional_string(const Json& object, const char* name, const JsonPath& path) {
  if (!object.is_object()) path.fail("expected a JSON object");
  const auto it = object.find(name);
  if (it == object.end() || it->is_null()) return {};
  if (!it->is_string()) (path / name).fail("expected a string or null");
  return it->get<std::string>();
}

std::string component_type(const Json& component, const JsonPath& path) {
  return require_string(component, "type", path);
}

// The regular expression of a {"String": ...} or {"Regex": ...} pattern object.
std::string pattern_to_regex(const Json& pattern, const JsonPath& path) {
  if (pattern.is_object() && pattern.contains("String") && pattern["String"].is_string()) {
    return regex_escape(pattern["String"].get<std::string>());
  }
  if (pattern.is_object() && pattern.contains("Regex") && pattern["Regex"].is_string()) {
    return pattern["Regex"].get<std::string>();
  }
  path.fail("expected {\"String\": ...} or {\"Regex\": ...}");
}

Json read_json_file(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw InputError(file, 0, "", "cannot open the file for reading");
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string text = buffer.str();
  try {
    return Json::parse(text);
  } catch (const Json::parse_error& e) {
    throw json_syntax_error(file, e, text);
  }
}

}  // namespace loom::text
