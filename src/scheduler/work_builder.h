// Rank 0's preparation of a job: expand every `benchmarks` entry through the registry, turn each sample into input
// ids (Benchmark::build_input_ids: official template, chat template, truncation to max_context - max_new_tokens),
// store them once as a protocol::Prompt in the PromptTable (its PromptId is the sample's identity from here on),
// apply the job's generation overrides, make one WorkItem per (sample, method) that points to the prompt, with its
// predicted cost, and keep each row's descriptive fields as a ResultRow template (joined with the worker's
// WorkOutcome on arrival). A sample whose prompt cannot be built (loom::SampleError, e.g. its instruction alone is
// longer than max_input_tokens) becomes one failed outcome per method with the reason; the other samples go on.
#pragma once

#include "results/result_row.h"
#include "scheduler/cost_model.h"
#include "scheduler/job_config.h"
#include "scheduler/run_identity.h"
#include "protocol/prompt_table.h"
#include "protocol/work_messages.h"

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace loom::scheduler {

// Samples of one (benchmark, task, target length), for `validate` and the start-of-run summary.
struct CellSummary {
  std::string benchmark;
  std::string task;
  int64_t target_length = 0;
  int64_t samples = 0;        // per method (unprepared ones included)
  int64_t input_tokens = 0;   // sum over samples
  int64_t truncated = 0;      // samples whose prompt was cut to fit
  double predicted_seconds = 0;  // sum over samples and methods
};

struct PreparedWork {
  protocol::PromptTable prompts;                    // each prepared sample's ids, once (items point to them)
  std::vector<protocol::WorkItem> items;            // every (sample, method) not yet in the results file
  // (sample, method) rows not yet stored whose sample could not be prepared: failed outcomes with the reason,
  // stored as failed rows without running (coordinator.h).
  std::vector<protocol::WorkOutcome> unprepared;
  std::map<std::string, results::ResultRow> rows;   // sample_key -> row template, for every item and unprepared row
  std::map<std::string, std::string> fingerprints;  // sample_key -> run identity, for every row of the job
  std::vector<CellSummary> cells;
  int64_t total_items = 0;                          // before skipping completed ones
  int64_t skipped_completed = 0;
  int64_t max_context = 0;
};

// benchmark/task/target_length/index/method_label
std::string make_sample_key(const std::string& benchmark, const std::string& task, int64_t target_length,
                            int64_t index, const std::string& method_label);

// max_context from the job, else the model card's max_position_embeddings (InputError for a bad model card).
int64_t resolve_max_context(const JobConfig& job);

// completed: sample keys already stored (resume); they are counted in total_items but get no WorkItem (nor an
// unprepared outcome).
// identity (optional): each row's fingerprint goes into its template and `fingerprints`.
// threads: how many threads draw generator cells and render/tokenize samples (common/parallel_for.h); 0 = the
// host's hardware threads. The result (prompts, items, rows, their order), the log lines per sample and the first
// error are the same for every thread count. Logs "prepared N samples in X s on T threads".
PreparedWork prepare_work(const JobConfig& job, const std::filesystem::path& benchmark_configs_dir,
                          const CostModel& cost, const std::set<std::string>& completed,
                          RunIdentity* identity = nullptr, int threads = 0);

}  // namespace loom::scheduler
