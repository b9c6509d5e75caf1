#include "rank/worker/engine_setup.h"

#include "rank/accel/registry.h"
#include "rank/worker/mpi_tensor_communicator.h"

#include <spdlog/spdlog.h>

#include <exception>

namespace loom::worker {

EngineSetup create_rank_engine(const model::EngineOptions& options, const mpi::Comm& group) {
  EngineSetup setup;
  try {
    if (group.size() > 1) setup.tp = std::make_unique<MpiTensorCommunicator>(group.raw());
    setup.engine = model::create_engine(options, setup.tp.get(), &accel::resolve_policy);
    spdlog::info("engine ready: {}", setup.engine->device_description());
  } catch (const std::exception& e) {
    setup.error = e.what();
    setup.engine.reset();
    spdlog::error("could not create the engine: {}", setup.error);
  }
  return setup;
}

}  // namespace loom::worker
