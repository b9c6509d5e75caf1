// The options `loom_mpi run` and `loom_mpi validate` share to change a job without editing it (JobOverrides):
// --model DIR, --limit N, --data-root DIR, --set KEY=VALUE (repeatable).
#pragma once

#include "scheduler/job_parser.h"

#include <CLI/CLI.hpp>

namespace loom::cli {

inline void add_job_override_options(CLI::App* command, scheduler::JobOverrides& overrides) {
  command->add_option("--model", overrides.model_path,
                      "model directory to evaluate instead of model.path (relative to the working directory)");
  command->add_option("--limit", overrides.limit,
                      "at most N samples per task and length, chosen by a seeded shuffle (the entry's seed, 42 by "
                      "default) as LOOM-Scope's --limit");
  command->add_option("--data-root", overrides.data_root,
                      "read each benchmark's data_dir from DIR/<the data_dir's last folder name> (e.g. data fetched "
                      "with tools/fetch_data.py, or data/slices)");
  command->add_option("--set", overrides.settings,
                      "KEY=VALUE: set a job key (dotted path of mappings, e.g. model.device=cpu, "
                      "model.max_context=4096); repeatable")
      ->allow_extra_args(false);
}

}  // namespace loom::cli
