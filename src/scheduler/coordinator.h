// Rank 0's part of a run (docs/architecture.md, "Data flow"; docs/trust.md): open the results store under its
// writer lock (moving an old file aside when resume is off), check that every stored row was made by this same run
// (run_identity.h; else OutputConflict naming what changed), prepare the work not yet stored plus the failed rows
// still under max_attempts, then dispatch it and append every outcome, joined with its row template, to the store
// as it arrives. Rows whose sample could not be prepared (PreparedWork::unprepared) are stored as failed, with the
// reason, before the first item is dispatched. The worker on rank 0 runs beside this on another thread.
#pragma once

#include "common/mpi/mpi_comm.h"
#include "model_card/model_card.h"
#include "results/result_store.h"
#include "scheduler/cost_model.h"
#include "scheduler/dispatcher.h"
#include "scheduler/job_config.h"
#include "scheduler/run_identity.h"
#include "scheduler/work_builder.h"

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace loom::scheduler {

struct PreparedJob {
  std::unique_ptr<results::ResultStore> store;
  PreparedWork work;
  CostModel cost;
  int64_t retried = 0;  // failed rows given another attempt
};

// The cost model for a job: configs_dir/cost_model.yaml, the job's profile and device, the model's card.
CostModel load_cost_model(const JobConfig& job, const std::filesystem::path& configs_dir,
                          const model::ModelCard& card);

// Throws results::OutputConflict when a stored row was made by another run: a row of this job whose fingerprint
// differs, or any row whose model, tokenizer or version differs. The message names each changed component (old
// and new descriptions where short) and the way out. stored_descriptions: the file's run_identity attribute.
void check_run_identity(const std::filesystem::path& output, const std::vector<results::ResultRow>& stored,
                        const std::map<std::string, std::string>& job_fingerprints, const RunIdentity& identity,
                        const std::map<std::string, std::string>& stored_descriptions);

PreparedJob prepare_job(const JobConfig& job, const std::filesystem::path& configs_dir,
                        const results::JobAttributes& attributes);

// Stores the unprepared rows as failed, then serves every group leader until all are stopped, appending each
// outcome to job.store. The summary's completed and failed counts include the unprepared rows.
DispatchSummary dispatch_job(const mpi::Comm& world, const std::vector<int>& leaders, PreparedJob& job,
                             double progress_interval_s);

// Joins a worker outcome with its row template.
results::ResultRow make_row(results::ResultRow row, const protocol::WorkOutcome& outcome);

}  // namespace loom::scheduler
