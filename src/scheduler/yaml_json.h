// YAML → JSON for free-form mappings of a job file (method params, benchmark options). Plain scalars become
// integers, numbers, booleans or null when they read as such; quoted scalars stay strings.
#pragma once

#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

namespace loom::scheduler {

nlohmann::json yaml_to_json(const YAML::Node& node);

}  // namespace loom::scheduler
