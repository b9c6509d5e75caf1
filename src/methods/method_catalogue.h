// The method catalogue: every acceleration method a job can name, with each parameter's type, default, range and
// meaning, the rules between parameters, and the rules a model must meet (KIVI: head_dim a multiple of group_size).
// Torch-free: rank 0 checks a job against it before any model loads (`validate` and `run`), the engine takes its
// parameter values from resolve_method_params (defaults are written only here), and `loom_mpi list methods`
// prints it. A failure is a MethodError naming the parameter ("params.<key>", or "name") and what was expected;
// callers turn it into a loom::InputError with their file and line.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

namespace loom::methods {

enum class ParamType { kInt, kNumber, kBool, kChoice, kIntList, kPath };  // kPath: a non-empty string

// kBudget parameters are alternatives (a job gives at most one; the default applies when it gives none). kScorer
// parameters belong to the method's token scorer: adakv accepts those of the scorer it is given.
enum class ParamRole { kMethod, kBudget, kScorer };

struct ParamDef {
  std::string name;
  ParamType type = ParamType::kInt;
  nlohmann::json default_value;     // null: none (the parameter is optional)
  double min = 0, max = 0;          // kInt, kNumber and kIntList elements: inclusive range
  std::vector<std::string> choices; // kChoice: the values; kInt: when not empty, the allowed values
  std::string description;
  ParamRole role = ParamRole::kMethod;
};

// What a method's compatibility rules need from the model (its model card); a field that is 0 skips its rules.
struct ModelShape {
  int64_t head_dim = 0;
  int64_t num_heads = 0;
  int64_t num_kv_heads = 0;
  int64_t num_layers = 0;
};

struct MethodDef {
  std::string name;
  std::string family;     // token eviction | layer/head budgets | quantization | hybrid/merge | sparse prefill | none
  std::string summary;    // one line
  std::string reference;  // where the defaults come from
  std::vector<ParamDef> params;
  std::string scorer_param;  // adakv: "scorer" — the chosen scorer method's kScorer parameters are accepted too
  // Rules between parameters and against the model, given the resolved parameters; they throw MethodError.
  std::function<void(const nlohmann::json&)> check;
  std::function<void(const nlohmann::json&, const ModelShape&)> check_model;
  std::string model_rules;  // the model rules in words (`list methods`, docs)
  // Non-empty for a method whose prefill should run in one chunk: why (`list methods` prints it; validate/run warn
  // when a job's prompts are longer than its generation.prefill_chunk_size, scheduler/prefill_hints.h).
  std::string one_chunk_prefill;
};

class MethodError : public std::runtime_error {
 public:
  MethodError(std::string key, const std::string& expected)
      : std::runtime_error(key + ": " + expected), key_(std::move(key)), expected_(expected) {}
  const std::string& key() const { return key_; }  // "name" or "params.<parameter>"
  const std::string& expected() const { return expected_; }

 private:
  std::string key_;
  std::string expected_;
};

const std::vector<MethodDef>& method_catalogue();
std::vector<std::string> method_names();
const MethodDef* find_method(const std::string& name);  // nullptr when unknown; "" means full

// The parameters `method` accepts given `params` (adakv: its own plus its scorer's).
std::vector<const ParamDef*> accepted_params(const MethodDef& method, const nlohmann::json& params);

// Checks `params` (a JSON object of the job's values) against the catalogue: an unknown method or parameter (with a
// "did you mean"), a wrong type, a value out of range, two budgets at once, a broken rule between parameters.
// Returns every accepted parameter's value: the job's, else the default (optional parameters without one are left
// out). Throws MethodError.
nlohmann::json resolve_method_params(const std::string& method, const nlohmann::json& params);

// The model rules of the method for resolved parameters. Throws MethodError naming the parameter.
void check_model_compatibility(const std::string& method, const nlohmann::json& resolved, const ModelShape& model);

// "an integer in [4, 4096]", "one of avgpool, maxpool", ... for messages and `list methods`.
std::string describe_type(const ParamDef& param);

}  // namespace loom::methods
