// Where the repository's configs/ directory is (benchmarks/, acceleration/, cost_model.yaml), found in this order:
//  1. $LOOM_CONFIG_DIR;
//  2. a configs/ directory in the job file's directory or any parent;
//  3. a configs/ directory next to the executable or in any parent (build/loom_mpi → <repo>/configs);
//  4. the source tree the binary was built from.
// A directory counts when it holds cost_model.yaml and benchmarks/.
#pragma once

#include <filesystem>
#include <string>

namespace loom::scheduler {

// job_file may be empty. Throws InputError (key LOOM_CONFIG_DIR) listing the places tried when none fits.
std::filesystem::path find_configs_dir(const std::filesystem::path& job_file);
// The git commit of the repository holding configs_dir ("" when it is not a git checkout).
std::string read_git_commit(const std::filesystem::path& configs_dir);

}  // namespace loom::scheduler
