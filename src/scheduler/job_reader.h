// Typed, validating access to one job file's YAML (internal to the job parser): the Reader that reads each key with
// its schema entry and reports a bad value as InputError(file, line, key, expected), with --set overrides reported
// against the override; and the small helpers it uses. Included by job_parser.cpp and job_service_sections.cpp.
#pragma once

#include "common/error.h"
#include "common/did_you_mean.h"
#include "scheduler/job_parser.h"
#include "scheduler/job_schema.h"
#include "scheduler/yaml_json.h"
#include "scheduler/yaml_limits.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <yaml-cpp/yaml.h>

#include <cctype>
#include <filesystem>
#include <limits>
#include <set>
#include <string>
#include <type_traits>
#include <vector>

namespace loom::scheduler::job_reader {

namespace fs = std::filesystem;

inline int line_of(const YAML::Node& node) {
  try {
    const YAML::Mark mark = node.Mark();
    return mark.line >= 0 ? mark.line + 1 : 0;
  } catch (const YAML::Exception&) {
    return 0;  // a key that is absent has no position
  }
}

inline std::string join_choices(const std::vector<const KeySpec*>& specs, const std::string& parent) {
  std::string out;
  const std::size_t skip = parent.empty() ? 0 : parent.size() + 1;
  for (const KeySpec* spec : specs) out += (out.empty() ? "" : ", ") + spec->key.substr(skip);
  return out;
}

inline std::string describe(const YAML::Node& node) {
  if (node.IsScalar()) {
    const std::string& text = node.Scalar();
    return "'" + (text.size() > 80 ? text.substr(0, 80) + "..." : text) + "'";
  }
  if (node.IsSequence()) return "a list";
  if (node.IsMap()) return "a mapping";
  return "nothing";
}

// What a key read as T expects, in words.
template <class T>
inline std::string expected_of() {
  if constexpr (std::is_same_v<T, bool>) {
    return "true or false";
  } else if constexpr (std::is_integral_v<T>) {
    return fmt::format("an integer from {} to {}", std::numeric_limits<T>::min(), std::numeric_limits<T>::max());
  } else if constexpr (std::is_floating_point_v<T>) {
    return "a number";
  } else {
    return "a string";
  }
}

inline bool is_plain_name(const std::string& name) {
  if (name.empty() || name.size() > 64) return false;
  for (const char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') return false;
  }
  return true;
}

// Validation and typed access for one job file. Schema keys use "[]" for list entries ("benchmarks[].name");
// display keys name the entry ("benchmarks[1].name").
class Reader {
 public:
  Reader(std::string file, fs::path base_dir, std::vector<std::string> settings)
      : file_(std::move(file)), base_dir_(std::move(base_dir)), settings_(std::move(settings)) {}

  // A key that --set KEY=VALUE gave is reported against the override, not against a line of the job file.
  [[noreturn]] void fail(const YAML::Node& at, const std::string& key, const std::string& expected) const {
    for (const std::string& setting : settings_) {
      const std::string set_key = setting.substr(0, setting.find('='));
      if (key == set_key || key.rfind(set_key + ".", 0) == 0 || key.rfind(set_key + "[", 0) == 0) {
        throw InputError("--set " + setting, 0, key, expected);
      }
    }
    throw InputError(file_, at ? line_of(at) : 0, key, expected);
  }

  template <class T>
  T convert(const YAML::Node& node, const std::string& display) const {
    try {
      return node.as<T>();
    } catch (const YAML::Exception&) {
      fail(node, display, "expected " + expected_of<T>() + ", got " + describe(node));
    }
  }

  void validate_section(const YAML::Node& node, const std::string& schema, const std::string& display) {
    if (!node.IsMap()) fail(node, display, "expected a mapping, got " + describe(node));
    const auto children = child_keys(schema);
    std::set<std::string> seen;
    for (const auto& entry : node) {
      const std::string leaf = entry.first.Scalar();
      const std::string child_schema = schema.empty() ? leaf : schema + "." + leaf;
      const std::string child_display = display.empty() ? leaf : display + "." + leaf;
      const KeySpec* spec = find_key(child_schema);
      if (!spec) {
        fail(entry.first, child_display,
             "unknown key; expected one of: " + join_choices(children, schema));
      }
      seen.insert(leaf);
      validate_value(entry.second, *spec, child_display);
    }
    const std::size_t skip = schema.empty() ? 0 : schema.size() + 1;
    for (const KeySpec* spec : children) {
      const std::string leaf = spec->key.substr(skip);
      if (spec->required && !seen.count(leaf)) {
        fail(node, display.empty() ? leaf : display + "." + leaf, "missing required key: " + spec->help);
      }
    }
  }

  void validate_value(const YAML::Node& node, const KeySpec& spec, const std::string& display) {
    switch (spec.type) {
      case ValueType::kSection: validate_section(node, spec.key, display); return;
      case ValueType::kSectionList: {
        if (!node.IsSequence() || node.size() == 0) fail(node, display, "expected a non-empty list of mappings");
        check_count(node, display, kMaxListEntries);
        for (std::size_t i = 0; i < node.size(); ++i) {
          validate_section(node[i], spec.key + "[]", display + "[" + std::to_string(i) + "]");
        }
        return;
      }
      case ValueType::kMethods: {
        if (node.IsScalar()) return;
        if (node.IsMap()) return validate_section(node, spec.key + "[]", display);
        if (!node.IsSequence() || node.size() == 0) fail(node, display, "expected " + type_name(spec.type));
        check_count(node, display, kMaxListEntries);
        for (std::size_t i = 0; i < node.size(); ++i) {
          if (!node[i].IsScalar()) validate_section(node[i], spec.key + "[]", display + "[" + std::to_string(i) + "]");
        }
        return;
      }
      case ValueType::kObject:
        if (!node.IsMap()) fail(node, display, "expected a mapping, got " + describe(node));
        return;
      case ValueType::kStringList:
        if (node.IsScalar()) return;
        if (!node.IsSequence()) fail(node, display, "expected " + type_name(spec.type));
        check_count(node, display, kMaxListEntries);
        for (const auto& element : node) {
          if (!element.IsScalar()) fail(element, display, "expected " + type_name(spec.type));
        }
        return;
      case ValueType::kLengthList:
        if (node.IsScalar()) return check_length(node, display);
        if (!node.IsSequence()) fail(node, display, "expected " + type_name(spec.type));
        check_count(node, display, kMaxLengths);
        for (const auto& element : node) check_length(element, display);
        return;
      default: check_scalar(node, spec, display);
    }
  }

  void check_count(const YAML::Node& list, const std::string& display, std::size_t most) const {
    if (list.size() > most) {
      fail(list, display, fmt::format("expected at most {} entries, got {}", most, list.size()));
    }
  }

  void check_length(const YAML::Node& node, const std::string& display) const {
    try {
      if (!node.IsScalar()) throw std::invalid_argument("not a scalar");
      parse_length(node.Scalar());
    } catch (const std::out_of_range&) {
      fail(node, display, fmt::format("expected a length of at most {} tokens, got {}", kMaxLength, describe(node)));
    } catch (const std::exception&) {
      fail(node, display, "expected a length such as 4096, \"4K\", \"128k\" or \"0k\", got " + describe(node));
    }
  }

  void check_scalar(const YAML::Node& node, const KeySpec& spec, const std::string& display) const {
    if (!node.IsScalar()) fail(node, display, "expected " + type_name(spec.type) + ", got " + describe(node));
    try {
      switch (spec.type) {
        case ValueType::kInt: node.as<int64_t>(); break;
        case ValueType::kFloat: node.as<double>(); break;
        case ValueType::kBool: node.as<bool>(); break;
        default: break;
      }
    } catch (const YAML::Exception&) {
      fail(node, display, "expected " + type_name(spec.type) + ", got " + describe(node));
    }
    if (!spec.choices.empty()) {
      const std::string choices = "|" + spec.choices + "|";
      if (choices.find("|" + node.Scalar() + "|") == std::string::npos) {
        fail(node, display, "expected one of " + spec.choices + ", got " + describe(node));
      }
    }
  }

  // Typed reads after validation. `schema` is the full schema key; the default comes from the table.
  // display: the key as the user sees it (benchmarks[2].seed); the schema key when empty.
  template <class T>
  T get(const YAML::Node& section, const std::string& schema, const std::string& display = "") const {
    const std::string leaf = schema.substr(schema.rfind('.') + 1);
    if (section && section.IsMap() && section[leaf]) {
      return convert<T>(section[leaf], display.empty() ? schema : display);
    }
    return YAML::Load(find_key(schema)->default_value).as<T>();
  }
  template <class T>
  std::optional<T> get_optional(const YAML::Node& section, const std::string& leaf, const std::string& parent) const {
    if (section && section.IsMap() && section[leaf]) return convert<T>(section[leaf], parent + "." + leaf);
    return std::nullopt;
  }
  std::vector<std::string> strings(const YAML::Node& node) const {
    if (!node) return {};
    if (node.IsScalar()) return {node.Scalar()};
    return node.as<std::vector<std::string>>();
  }
  std::vector<int64_t> lengths(const YAML::Node& node) const {
    std::vector<int64_t> out;
    if (!node) return out;
    if (node.IsScalar()) return {parse_length(node.Scalar())};
    for (const auto& element : node) out.push_back(parse_length(element.Scalar()));
    return out;
  }
  fs::path input_path(const std::string& value) const {
    const fs::path path(value);
    return path.is_absolute() ? path : (base_dir_ / path).lexically_normal();
  }
  const std::string& file() const { return file_; }

 private:
  std::string file_;
  fs::path base_dir_;
  std::vector<std::string> settings_;
};

inline void require_positive(const Reader& reader, const YAML::Node& section, const std::string& leaf,
                      const std::string& display, double value, bool allow_zero = false) {
  if (value > 0 || (allow_zero && value == 0)) return;
  reader.fail(section && section.IsMap() && section[leaf] ? section[leaf] : section, display,
              allow_zero ? "expected a value >= 0" : "expected a value > 0");
}

}  // namespace loom::scheduler::job_reader
