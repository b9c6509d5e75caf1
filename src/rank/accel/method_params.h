// Typed, validated access to an acceleration method's parameters (MethodSpec::params_json).
//
// Every getter records the key it read; finish() then rejects keys nobody read, so a typo in a job file
// ("compresion_ratio") is an error instead of a silent default. Every failure is a loom::InputError naming the
// method (as the "file"), the key ("params.<key>") and what was expected.
#pragma once

#include "common/generation_settings.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace loom::accel {

class MethodParams {
 public:
  explicit MethodParams(const MethodSpec& spec);

  const std::string& method() const { return method_; }
  bool has(const std::string& key) const;

  double get_double(const std::string& key, double fallback, double min_value, double max_value);
  std::optional<double> get_optional_double(const std::string& key, double min_value, double max_value);
  int64_t get_int(const std::string& key, int64_t fallback, int64_t min_value, int64_t max_value);
  std::optional<int64_t> get_optional_int(const std::string& key, int64_t min_value, int64_t max_value);
  bool get_bool(const std::string& key, bool fallback);
  std::string get_choice(const std::string& key, const std::string& fallback, const std::vector<std::string>& choices);
  std::vector<int64_t> get_int_list(const std::string& key, const std::vector<int64_t>& fallback);

  // Throws InputError for the first key that no getter read.
  void finish() const;

  [[noreturn]] void fail(const std::string& key, const std::string& expected) const;

 private:
  const nlohmann::json* lookup(const std::string& key);

  std::string method_;
  nlohmann::json json_;
  std::set<std::string> read_;
};

}  // namespace loom::accel
