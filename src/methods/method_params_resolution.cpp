// Parameter resolution against the method catalogue (see method_catalogue.h): a job's params checked by name,
// type and range, defaults filled in, the method's own rules and the model's compatibility applied.
#include "methods/method_catalogue.h"

#include "common/did_you_mean.h"
#include "methods/method_file_shapes.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <set>

namespace loom::methods {
namespace {

using nlohmann::json;

std::string number_text(double value, ParamType type) {
  if (type == ParamType::kNumber) return fmt::format("{}", value);
  return fmt::format("{}", static_cast<int64_t>(value));
}

const ParamDef* find_param(const std::vector<const ParamDef*>& params, const std::string& name) {
  for (const ParamDef* p : params) {
    if (p->name == name) return p;
  }
  return nullptr;
}

void check_value(const ParamDef& param, const json& value) {
  const std::string key = "params." + param.name;
  const std::string expected = describe_type(param);
  auto in_range = [&](double x) { return std::isfinite(x) && x >= param.min && x <= param.max; };
  switch (param.type) {
    case ParamType::kInt:
      if (!value.is_number_integer() || !in_range(static_cast<double>(value.get<int64_t>()))) {
        throw MethodError(key, fmt::format("{}, got {}", expected, value.dump()));
      }
      if (!param.choices.empty() && std::find(param.choices.begin(), param.choices.end(),
                                              std::to_string(value.get<int64_t>())) == param.choices.end()) {
        throw MethodError(key, fmt::format("{}, got {}", expected, value.dump()));
      }
      return;
    case ParamType::kNumber:
      if (!value.is_number() || !in_range(value.get<double>())) {
        throw MethodError(key, fmt::format("{}, got {}", expected, value.dump()));
      }
      return;
    case ParamType::kBool:
      if (!value.is_boolean()) throw MethodError(key, fmt::format("{}, got {}", expected, value.dump()));
      return;
    case ParamType::kChoice:
      if (!value.is_string() ||
          std::find(param.choices.begin(), param.choices.end(), value.get<std::string>()) == param.choices.end()) {
        const std::string got = value.is_string() ? value.get<std::string>() : value.dump();
        throw MethodError(key, fmt::format("{}, got '{}'{}", expected, got, did_you_mean(got, param.choices)));
      }
      return;
    case ParamType::kPath:
      if (!value.is_string() || value.get<std::string>().empty()) {
        throw MethodError(key, fmt::format("{}, got {}", expected, value.dump()));
      }
      return;
    case ParamType::kIntList:
      if (!value.is_array()) throw MethodError(key, fmt::format("{}, got {}", expected, value.dump()));
      for (const json& item : value) {
        if (!item.is_number_integer() || !in_range(static_cast<double>(item.get<int64_t>()))) {
          throw MethodError(key, fmt::format("{}, got {}", expected, value.dump()));
        }
      }
      return;
  }
}


}  // namespace

std::string describe_type(const ParamDef& param) {
  switch (param.type) {
    case ParamType::kInt:
      if (!param.choices.empty()) return "one of " + join_names(param.choices);
      return fmt::format("an integer in [{}, {}]", number_text(param.min, param.type),
                         number_text(param.max, param.type));
    case ParamType::kNumber:
      return fmt::format("a number in [{}, {}]", number_text(param.min, param.type),
                         number_text(param.max, param.type));
    case ParamType::kBool: return "true or false";
    case ParamType::kChoice: return "one of " + join_names(param.choices);
    case ParamType::kPath: return "a file or directory path (absolute, or relative to the working directory)";
    case ParamType::kIntList:
      return fmt::format("a list of integers in [{}, {}]", number_text(param.min, ParamType::kInt),
                         number_text(param.max, ParamType::kInt));
  }
  return "a value";
}

std::vector<const ParamDef*> accepted_params(const MethodDef& method, const json& params) {
  std::vector<const ParamDef*> out;
  for (const ParamDef& p : method.params) out.push_back(&p);
  if (method.scorer_param.empty()) return out;
  const ParamDef* scorer = find_param(out, method.scorer_param);
  std::string scorer_name = scorer->default_value.get<std::string>();
  if (params.is_object() && params.contains(method.scorer_param) && params[method.scorer_param].is_string()) {
    scorer_name = params[method.scorer_param].get<std::string>();
  }
  if (const MethodDef* scorer_method = find_method(scorer_name)) {
    for (const ParamDef& p : scorer_method->params) {
      if (p.role == ParamRole::kScorer && !find_param(out, p.name)) out.push_back(&p);
    }
  }
  return out;
}

json resolve_method_params(const std::string& method_name, const json& params_in) {
  const MethodDef* method = find_method(method_name);
  if (method == nullptr) {
    throw MethodError("name", fmt::format("one of {}; got '{}'{}", join_names(method_names()), method_name,
                                          did_you_mean(method_name, method_names())));
  }
  const json params = params_in.is_null() ? json::object() : params_in;
  if (!params.is_object()) throw MethodError("params", "a mapping of parameter names to values");
  if (!method->scorer_param.empty() && params.contains(method->scorer_param)) {
    check_value(*find_param(accepted_params(*method, json::object()), method->scorer_param),
                params[method->scorer_param]);
  }
  const std::vector<const ParamDef*> accepted = accepted_params(*method, params);
  std::vector<std::string> names;
  for (const ParamDef* p : accepted) names.push_back(p->name);
  const ParamDef* budget_given = nullptr;
  for (const auto& [key, value] : params.items()) {
    const ParamDef* param = find_param(accepted, key);
    if (param == nullptr) {
      throw MethodError("params." + key,
                        names.empty() ? fmt::format("no parameters: method {} takes none", method->name)
                                      : fmt::format("a parameter of {}: {}{}", method->name, join_names(names),
                                                    did_you_mean(key, names)));
    }
    if (value.is_null()) continue;
    check_value(*param, value);
    if (param->role == ParamRole::kBudget) {
      if (budget_given != nullptr) {
        throw MethodError("params." + key, fmt::format("one budget: {} gives either {} or {}, not both",
                                                       method->name, budget_given->name, key));
      }
      budget_given = param;
    }
  }
  json resolved = json::object();
  for (const ParamDef* p : accepted) {
    if (params.contains(p->name) && !params[p->name].is_null()) {
      resolved[p->name] = params[p->name];
    } else if (!p->default_value.is_null() && !(p->role == ParamRole::kBudget && budget_given != nullptr)) {
      resolved[p->name] = p->default_value;
    }
  }
  if (method->check) method->check(resolved);
  return resolved;
}

void check_model_compatibility(const std::string& method_name, const json& resolved, const ModelShape& model) {
  const MethodDef* method = find_method(method_name);
  if (method == nullptr) return;
  if (resolved.contains("skip_layers") && model.num_layers > 0) {
    for (const json& layer : resolved["skip_layers"]) {
      if (layer.get<int64_t>() >= model.num_layers) {
        throw MethodError("params.skip_layers", fmt::format("layer indices below the model's {} layers; got {}",
                                                            model.num_layers, layer.get<int64_t>()));
      }
    }
  }
  if (method->check_model) method->check_model(resolved, model);
}

}  // namespace loom::methods
