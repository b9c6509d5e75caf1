#include "rank/worker/worker_loop.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <exception>

namespace loom::worker {

using scheduler::WorkAssignment;
using scheduler::WorkItem;
using scheduler::WorkOutcome;
using scheduler::WorkRequest;

std::vector<WorkOutcome> run_batch(model::InferenceEngine& engine, const std::vector<WorkItem>& items, int world_rank,
                                   int group_index) {
  std::vector<model::InferenceRequest> requests;
  requests.reserve(items.size());
  for (const WorkItem& item : items) {
    requests.push_back(model::InferenceRequest{item.sample_key, item.input_ids, item.generation, item.method});
  }
  // Follow-up generations (WorkItem::followup_ids) run in the same batch, after the items; followup_of[j] is the
  // item of request items.size() + j.
  std::vector<std::size_t> followup_of;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (items[i].followup_ids.empty()) continue;
    requests.push_back(model::InferenceRequest{items[i].sample_key + "#followup", items[i].followup_ids,
                                               items[i].generation, items[i].method});
    followup_of.push_back(i);
  }
  std::vector<WorkOutcome> outcomes(items.size());
  for (std::size_t i = 0; i < items.size(); ++i) {
    outcomes[i].sample_key = items[i].sample_key;
    outcomes[i].input_tokens = static_cast<int64_t>(items[i].input_ids.size());
    outcomes[i].rank = world_rank;
    outcomes[i].group = group_index;
  }
  std::vector<model::InferenceResult> results;
  std::string batch_error;
  try {
    results = engine.run(requests);
    if (results.size() != requests.size()) {
      batch_error = fmt::format("the engine returned {} results for {} requests", results.size(), requests.size());
    }
  } catch (const std::exception& e) {
    batch_error = e.what();
  }
  if (!batch_error.empty()) {
    spdlog::warn("batch of {} failed: {}", items.size(), batch_error);
    for (WorkOutcome& outcome : outcomes) {
      outcome.ok = false;
      outcome.error = batch_error;
    }
    return outcomes;
  }
  for (std::size_t i = 0; i < items.size(); ++i) {
    const model::InferenceResult& result = results[i];
    WorkOutcome& outcome = outcomes[i];
    outcome.ok = result.ok;
    outcome.error = result.error;
    outcome.prediction = result.text;
    if (result.input_tokens > 0) outcome.input_tokens = result.input_tokens;
    outcome.output_tokens = static_cast<int64_t>(result.output_ids.size());
    outcome.prefill_seconds = result.prefill_seconds;
    outcome.decode_seconds = result.decode_seconds;
    outcome.kv_bytes = result.kv_bytes;
    outcome.peak_memory_bytes = result.peak_memory_bytes;
    outcome.prefill_block_density = result.prefill_block_density;
    if (!result.ok) spdlog::warn("sample {} failed: {}", outcome.sample_key, result.error);
  }
  for (std::size_t j = 0; j < followup_of.size(); ++j) {
    const model::InferenceResult& result = results[items.size() + j];
    const WorkItem& item = items[followup_of[j]];
    WorkOutcome& outcome = outcomes[followup_of[j]];
    if (!outcome.ok) continue;
    if (!result.ok) {
      outcome.ok = false;
      outcome.error = "follow-up generation failed: " + result.error;
      outcome.prediction.clear();
      spdlog::warn("sample {} failed: {}", outcome.sample_key, outcome.error);
      continue;
    }
    outcome.prediction += item.followup_prefix + result.text + item.followup_suffix;
    outcome.output_tokens += static_cast<int64_t>(result.output_ids.size());
    outcome.prefill_seconds += result.prefill_seconds;
    outcome.decode_seconds += result.decode_seconds;
  }
  return outcomes;
}

std::string agree_on_load(const mpi::Comm& group, const std::string& own_error) {
  const int64_t all_loaded = group.all_reduce_min(own_error.empty() ? 1 : 0);
  if (all_loaded) return "";
  if (!own_error.empty()) return own_error;
  return "another rank of this tensor-parallel group failed to load the model (see its log)";
}

WorkerSummary run_worker_loop(const mpi::Comm& world, const mpi::Comm& group, model::InferenceEngine* engine,
                              const std::string& load_error, const WorkerOptions& options) {
  WorkerSummary summary;
  const bool leader = group.rank() == 0;
  WorkRequest request;
  request.group = options.group_index;
  request.capacity = options.capacity;
  request.fatal_error = load_error;
  if (engine && load_error.empty()) request.device = engine->device_description();
  while (true) {
    WorkAssignment assignment;
    if (leader) {
      world.send(request, options.dispatcher_rank, mpi::MessageTag::kWorkRequest);
      request.outcomes.clear();
      request.device.clear();
      assignment = world.recv<WorkAssignment>(options.dispatcher_rank, mpi::MessageTag::kWorkAssignment, nullptr,
                                              options.wait);
    }
    if (group.size() > 1) group.broadcast(assignment, 0, options.wait);
    if (assignment.stop) break;
    ++summary.batches;
    summary.items += static_cast<int64_t>(assignment.items.size());
    std::vector<WorkOutcome> outcomes = run_batch(*engine, assignment.items, world.rank(), options.group_index);
    for (const WorkOutcome& outcome : outcomes) summary.failed += outcome.ok ? 0 : 1;
    if (leader) request.outcomes = std::move(outcomes);
  }
  return summary;
}

}  // namespace loom::worker
