#include "common/log.h"

#include <spdlog/sinks/stdout_color_sinks.h>

#include <cstdlib>

namespace loom {

void init_logging(const LogSetup& setup) {
  auto logger = spdlog::stderr_color_mt(fmt::format("loom{}", setup.world_rank));
  logger->set_pattern(fmt::format("[%H:%M:%S.%e] [%^%l%$] [rank {}/{}] %v", setup.world_rank, setup.group));
  std::string level = setup.level;
  if (const char* env = std::getenv("LOOM_LOG_LEVEL")) level = env;
  logger->set_level(spdlog::level::from_str(level));
  if (setup.first_rank_only && setup.world_rank != 0) logger->set_level(spdlog::level::off);
  spdlog::set_default_logger(logger);
}

}  // namespace loom
