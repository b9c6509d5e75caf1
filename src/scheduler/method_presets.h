// Method presets: configs/acceleration/<name>.yaml gives a method of the catalogue (methods/method_catalogue.h)
// and parameter values under a new name, so a site's own setting is named like a method in jobs:
//   name: snapkv_loomscope        # must equal the file name
//   method: snapkv                # a method of the catalogue (`loom_mpi list methods`)
//   params: {window_size: 32, max_capacity_prompt: 4096}
//   description: SnapKV as LOOM-Scope runs it
// A job's params override the preset's. The parser expands a preset into its catalogue method and merged
// parameters, so workers never read presets. A bad preset is an InputError naming the preset file and line.
#pragma once

#include <nlohmann/json.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace loom::scheduler {

struct MethodPreset {
  std::string name;
  std::string method;
  nlohmann::json params = nlohmann::json::object();
  std::string description;
  std::filesystem::path file;
};

// Names of the presets in configs_dir/acceleration (sorted; empty when there is none).
std::vector<std::string> preset_names(const std::filesystem::path& configs_dir);

// The preset `name`, checked against the catalogue, or nullopt when configs_dir/acceleration/<name>.yaml does not
// exist. `name` must already be a plain name (letters, digits, '_' and '-').
std::optional<MethodPreset> load_method_preset(const std::filesystem::path& configs_dir, const std::string& name);

}  // namespace loom::scheduler
