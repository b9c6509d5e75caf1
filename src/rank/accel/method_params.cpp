// Validated reading of method parameters (see method_params.h).
#include "rank/accel/method_params.h"

#include "common/error.h"

#include <fmt/format.h>
#include <fmt/ranges.h>  // fmt::join (fmt >= 11 declares it here)

#include <algorithm>
#include <cmath>

namespace loom::accel {

namespace {

std::string method_label(const std::string& method) { return fmt::format("acceleration method '{}'", method); }

}  // namespace

MethodParams::MethodParams(const MethodSpec& spec) : method_(spec.name) {
  const std::string text = spec.params_json.empty() ? "{}" : spec.params_json;
  try {
    json_ = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw InputError(method_label(method_), 0, "params", fmt::format("a JSON object ({})", e.what()));
  }
  if (json_.is_null()) json_ = nlohmann::json::object();
  if (!json_.is_object()) throw InputError(method_label(method_), 0, "params", "a mapping of parameter names to values");
}

void MethodParams::fail(const std::string& key, const std::string& expected) const {
  throw InputError(method_label(method_), 0, "params." + key, expected);
}

bool MethodParams::has(const std::string& key) const {
  auto it = json_.find(key);
  return it != json_.end() && !it->is_null();
}

const nlohmann::json* MethodParams::lookup(const std::string& key) {
  read_.insert(key);
  auto it = json_.find(key);
  if (it == json_.end() || it->is_null()) return nullptr;
  return &*it;
}

std::optional<double> MethodParams::get_optional_double(const std::string& key, double min_value, double max_value) {
  const nlohmann::json* value = lookup(key);
  if (value == nullptr) return std::nullopt;
  const std::string expected = fmt::format("a number in [{}, {}]", min_value, max_value);
  if (!value->is_number()) fail(key, expected);
  const double number = value->get<double>();
  if (!std::isfinite(number) || number < min_value || number > max_value) fail(key, expected);
  return number;
}

double MethodParams::get_double(const std::string& key, double fallback, double min_value, double max_value) {
  return get_optional_double(key, min_value, max_value).value_or(fallback);
}

std::optional<int64_t> MethodParams::get_optional_int(const std::string& key, int64_t min_value, int64_t max_value) {
  const nlohmann::json* value = lookup(key);
  if (value == nullptr) return std::nullopt;
  const std::string expected = fmt::format("an integer in [{}, {}]", min_value, max_value);
  if (!value->is_number_integer()) fail(key, expected);
  const int64_t number = value->get<int64_t>();
  if (number < min_value || number > max_value) fail(key, expected);
  return number;
}

int64_t MethodParams::get_int(const std::string& key, int64_t fallback, int64_t min_value, int64_t max_value) {
  return get_optional_int(key, min_value, max_value).value_or(fallback);
}

bool MethodParams::get_bool(const std::string& key, bool fallback) {
  const nlohmann::json* value = lookup(key);
  if (value == nullptr) return fallback;
  if (!value->is_boolean()) fail(key, "true or false");
  return value->get<bool>();
}

std::string MethodParams::get_choice(const std::string& key, const std::string& fallback,
                                     const std::vector<std::string>& choices) {
  const nlohmann::json* value = lookup(key);
  if (value == nullptr) return fallback;
  const std::string expected = fmt::format("one of {}", fmt::join(choices, ", "));
  if (!value->is_string()) fail(key, expected);
  const std::string text = value->get<std::string>();
  if (std::find(choices.begin(), choices.end(), text) == choices.end()) fail(key, expected);
  return text;
}

std::vector<int64_t> MethodParams::get_int_list(const std::string& key, const std::vector<int64_t>& fallback) {
  const nlohmann::json* value = lookup(key);
  if (value == nullptr) return fallback;
  if (!value->is_array()) fail(key, "a list of integers");
  std::vector<int64_t> out;
  for (const auto& item : *value) {
    if (!item.is_number_integer()) fail(key, "a list of integers");
    out.push_back(item.get<int64_t>());
  }
  return out;
}

void MethodParams::finish() const {
  for (auto it = json_.begin(); it != json_.end(); ++it) {
    if (read_.count(it.key()) == 0) fail(it.key(), "a parameter this method knows (see configs/acceleration/" + method_ + ".yaml)");
  }
}

}  // namespace loom::accel
