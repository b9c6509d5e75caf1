// Logging: spdlog with a "[rank r/g]" prefix on every line. Configure once per process with
// init_logging(); afterwards use spdlog's macros (spdlog::info, SPDLOG_DEBUG, ...). The level comes from the
// job file or the CLI (--log-level); LOOM_LOG_LEVEL is read only as a debugging override.
#pragma once

#include <spdlog/spdlog.h>

#include <string>

namespace loom {

struct LogSetup {
  int world_rank = 0;
  int group = 0;              // tensor-parallel group index
  std::string level = "info"; // trace|debug|info|warn|error|off
  bool first_rank_only = false;
};

void init_logging(const LogSetup& setup);

}  // namespace loom
