// An acceleration method's parameter values (MethodSpec::params_json) as the method catalogue resolves them
// (methods/method_catalogue.h): the job's values, checked against the catalogue's types, ranges and rules, with
// the catalogue's defaults for the rest. The engine reads every value from here, so defaults are written once.
// A bad parameter is a loom::InputError naming the method (as the "file"), the key ("params.<key>") and what was
// expected; reading a key the catalogue does not define for the method is an internal error.
#pragma once

#include "common/generation_settings.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace loom::accel {

class MethodParams {
 public:
  explicit MethodParams(const MethodSpec& spec);

  const std::string& method() const { return method_; }
  bool has(const std::string& key) const;

  double get_double(const std::string& key) const;
  std::optional<double> get_optional_double(const std::string& key) const;
  int64_t get_int(const std::string& key) const;
  std::optional<int64_t> get_optional_int(const std::string& key) const;
  bool get_bool(const std::string& key) const;
  std::string get_string(const std::string& key) const;
  std::vector<int64_t> get_int_list(const std::string& key) const;

 private:
  const nlohmann::json& at(const std::string& key) const;

  std::string method_;
  nlohmann::json resolved_;
};

}  // namespace loom::accel
