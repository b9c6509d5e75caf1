// Creates this rank's inference engine for a job: model::create_engine with the acceleration registry's resolver,
// the rank's local GPU (options.local_device_index carries the node-local rank; it becomes that rank modulo the
// visible GPUs) and, for tensor_parallel > 1, the group communicator from parallel::make_communicator (NCCL on CUDA
// where built, else MPI). Errors are returned as text (the group agrees on them with agree_on_load), never thrown,
// so a group that cannot load retires cleanly.
#pragma once

#include "common/mpi/mpi_comm.h"
#include "rank/model/inference_engine.h"
#include "rank/parallel/communicator.h"

#include <memory>
#include <string>

namespace loom::worker {

struct EngineSetup {
  std::unique_ptr<parallel::Communicator> tp;  // null for a group of one
  std::unique_ptr<model::InferenceEngine> engine;
  std::string error;                           // non-empty when loading failed
};

EngineSetup create_rank_engine(const model::EngineOptions& options, const mpi::Comm& group);

}  // namespace loom::worker
