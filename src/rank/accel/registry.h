// The acceleration-method registry: the resolver the worker injects into the engine (model::PolicyResolver) and
// the list of methods. Method names, parameters and defaults are those of the method catalogue
// (methods/method_catalogue.h); "full" (or an empty name) is the dense full cache. An unknown method, an unknown
// parameter or a bad value throws loom::InputError naming the key.
#pragma once

#include "common/generation_settings.h"
#include "rank/model/attention_policy.h"

#include <memory>
#include <string>
#include <vector>

namespace loom::accel {

struct MethodInfo {
  std::string name;
  std::string family;   // token eviction | layer/head budgets | quantization | hybrid/merge | sparse prefill | none
  std::string summary;  // one line
};

const std::vector<MethodInfo>& known_methods();

std::shared_ptr<const model::AttentionPolicyFactory> resolve_policy(const MethodSpec& spec);

}  // namespace loom::accel
