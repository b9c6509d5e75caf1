// The loop every rank runs inside its tensor-parallel group (docs/architecture.md, "Workers").
//  * The group leader (group rank 0) sends WorkRequest to the dispatcher (world rank 0) with the outcomes of its
//    previous batch, receives a WorkAssignment and broadcasts it to its group, so every TP rank runs the same batch
//    through InferenceEngine::run (the engine's collectives need all of them).
//  * A failing request (engine result !ok, or run() throwing) becomes a failed WorkOutcome with the reason; the
//    loop goes on. A group whose engine could not be created reports `load_error` on its first request and leaves.
//  * Waits are patient (poll + sleep) so waiting ranks leave the CPU to ranks that compute.
#pragma once

#include "common/mpi/mpi_comm.h"
#include "rank/model/inference_engine.h"
#include "scheduler/work_messages.h"

#include <string>
#include <vector>

namespace loom::worker {

struct WorkerOptions {
  int group_index = 0;
  int capacity = 1;         // model.max_batch_size
  int dispatcher_rank = 0;  // world rank of the dispatcher
  mpi::WaitPolicy wait = mpi::WaitPolicy::patient(2000);
};

struct WorkerSummary {
  int64_t batches = 0;
  int64_t items = 0;
  int64_t failed = 0;
};

// engine may be null only when load_error is non-empty (the whole group must agree; see agree_on_load()).
WorkerSummary run_worker_loop(const mpi::Comm& world, const mpi::Comm& group, model::InferenceEngine* engine,
                              const std::string& load_error, const WorkerOptions& options);

// Collective over the group: every member passes its own load error (empty when its engine loaded); returns the
// group's verdict (empty if all loaded), so all members take the same path.
std::string agree_on_load(const mpi::Comm& group, const std::string& own_error);

// Runs one batch and converts the engine's results; never throws for a per-request failure. Items with a follow-up
// (WorkItem::followup_ids) get a second request in the same batch, joined to the prediction; the item fails if
// either fails.
std::vector<scheduler::WorkOutcome> run_batch(model::InferenceEngine& engine,
                                              const std::vector<scheduler::WorkItem>& items, int world_rank,
                                              int group_index);

}  // namespace loom::worker
