// Creates this rank's inference engine for a job: model::create_engine with the acceleration registry's resolver,
// the rank's local GPU (node-local rank modulo visible devices is the engine's business: we pass the node-local
// rank) and, for tensor_parallel > 1, an MPI tensor communicator over the group. Errors are returned as text (the
// group agrees on them with agree_on_load), never thrown, so a group that cannot load retires cleanly.
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
