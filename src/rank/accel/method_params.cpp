// Method parameters resolved by the catalogue (see method_params.h).
#include "rank/accel/method_params.h"

#include "common/error.h"
#include "methods/method_catalogue.h"

#include <fmt/format.h>

namespace loom::accel {

MethodParams::MethodParams(const MethodSpec& spec) : method_(spec.name.empty() ? "full" : spec.name) {
  const std::string label = fmt::format("acceleration method '{}'", method_);
  nlohmann::json params;
  try {
    params = nlohmann::json::parse(spec.params_json.empty() ? "{}" : spec.params_json);
  } catch (const nlohmann::json::exception& e) {
    throw InputError(label, 0, "params", "a JSON object of parameter values");
  }
  try {
    resolved_ = methods::resolve_method_params(method_, params);
  } catch (const methods::MethodError& e) {
    throw InputError(label, 0, e.key() == "name" ? "method" : e.key(), e.expected());
  }
}

bool MethodParams::has(const std::string& key) const { return resolved_.contains(key); }

const nlohmann::json& MethodParams::at(const std::string& key) const {
  LOOM_CHECK(resolved_.contains(key), "method {} read parameter '{}', which the catalogue does not give it", method_,
             key);
  return resolved_[key];
}

double MethodParams::get_double(const std::string& key) const { return at(key).get<double>(); }

std::optional<double> MethodParams::get_optional_double(const std::string& key) const {
  if (!has(key)) return std::nullopt;
  return get_double(key);
}

int64_t MethodParams::get_int(const std::string& key) const { return at(key).get<int64_t>(); }

std::optional<int64_t> MethodParams::get_optional_int(const std::string& key) const {
  if (!has(key)) return std::nullopt;
  return get_int(key);
}

bool MethodParams::get_bool(const std::string& key) const { return at(key).get<bool>(); }

std::string MethodParams::get_string(const std::string& key) const { return at(key).get<std::string>(); }

std::vector<int64_t> MethodParams::get_int_list(const std::string& key) const {
  return at(key).get<std::vector<int64_t>>();
}

}  // namespace loom::accel
