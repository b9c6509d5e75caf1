#include "rank/worker/engine_setup.h"

#include "rank/accel/registry.h"
#include "rank/model/device.h"
#include "rank/model/failure_text.h"
#include "rank/parallel/communicator_factory.h"

#include <ATen/Context.h>
#include <ATen/detail/CUDAHooksInterface.h>
#include <spdlog/spdlog.h>

#include <exception>

namespace loom::worker {

EngineSetup create_rank_engine(const model::EngineOptions& options, const mpi::Comm& group) {
  EngineSetup setup;
  try {
    model::EngineOptions local = options;
    // options.local_device_index carries the node-local rank; one GPU per rank, wrapping over the visible ones.
    const int visible = static_cast<int>(at::detail::getCUDAHooks().getNumGPUs());
    local.local_device_index = parallel::local_cuda_device(options.local_device_index, visible);
    if (group.size() > 1) {
      const at::Device device = model::resolve_device(local.device, local.local_device_index);
      setup.tp = parallel::make_communicator(group.raw(), device);
      spdlog::info("tensor-parallel group of {} over {}", group.size(), parallel::backend_for(device));
    }
    setup.engine = model::create_engine(local, setup.tp.get(), &accel::resolve_policy);
    spdlog::info("engine ready: {}", setup.engine->device_description());
  } catch (const std::exception& e) {
    setup.error = model::failure_text(e, "loading the model");
    setup.engine.reset();
    spdlog::error("could not create the engine: {}", setup.error);
  }
  return setup;
}

}  // namespace loom::worker
