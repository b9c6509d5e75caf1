// What `loom_mpi run|validate` may change in a job without editing it (--model, --limit, --data-root, --set), and
// the two steps the job parser applies them with: the --set values on the YAML tree before validation (so a bad
// override is reported like a bad key) and the new folder of a data_dir under --data-root. Relative paths are
// relative to the working directory.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace loom::scheduler {

struct JobOverrides {
  std::filesystem::path model_path;   // --model DIR: replaces model.path
  std::filesystem::path data_root;    // --data-root DIR: each benchmarks[].data_dir becomes DIR/<its last component>
  int64_t limit = -1;                 // --limit N: per (task, length), after a seeded shuffle (LOOM-Scope's --limit)
  std::vector<std::string> settings;  // --set KEY=VALUE: KEY a dotted path of mapping keys, VALUE YAML

  bool empty() const { return model_path.empty() && data_root.empty() && limit < 0 && settings.empty(); }
  std::string describe() const;       // "--model ... --limit ..." as given, for logs and the results file
};

// --set KEY=VALUE on the parsed job: KEY walks (and creates) mappings, VALUE is parsed as YAML. InputError (file
// "--set") for a setting without '=', a bad YAML value, or a path through a value that is not a mapping.
void apply_settings(YAML::Node& root, const std::vector<std::string>& settings);

// data_dir moved under `root`: root/<the data_dir's last component> (--data-root).
std::filesystem::path rerooted(const std::filesystem::path& data_dir, const std::filesystem::path& root);

}  // namespace loom::scheduler
