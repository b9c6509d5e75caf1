// Rank 0's part of a run (docs/architecture.md, "Data flow"): open the results store (moving an old file aside when
// resume is off), prepare the work not yet stored, then dispatch it and append every outcome, joined with its row
// template, to the store as it arrives. The worker on rank 0 runs beside this on another thread.
#pragma once

#include "common/mpi/mpi_comm.h"
#include "results/result_store.h"
#include "scheduler/cost_model.h"
#include "scheduler/dispatcher.h"
#include "scheduler/job_config.h"
#include "scheduler/work_builder.h"

#include <filesystem>
#include <memory>
#include <vector>

namespace loom::scheduler {

struct PreparedJob {
  std::unique_ptr<results::ResultStore> store;
  PreparedWork work;
  CostModel cost;
};

// The cost model for a job: configs_dir/cost_model.yaml, the job's profile and device, the model's config.json.
CostModel load_cost_model(const JobConfig& job, const std::filesystem::path& configs_dir);

// Moves <path> and <path>.journal aside to <path>.old-<unix time>[.journal]; returns the new name ("" if absent).
std::filesystem::path move_results_aside(const std::filesystem::path& path);

PreparedJob prepare_job(const JobConfig& job, const std::filesystem::path& configs_dir,
                        const results::JobAttributes& attributes);

// Serves every group leader until all are stopped; appends each outcome to job.store.
DispatchSummary dispatch_job(const mpi::Comm& world, const std::vector<int>& leaders, PreparedJob& job,
                             double progress_interval_s);

// Joins a worker outcome with its row template.
results::ResultRow make_row(results::ResultRow row, const WorkOutcome& outcome);

}  // namespace loom::scheduler
