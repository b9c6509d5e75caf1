#include "scheduler/coordinator.h"

#include "common/error.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <numeric>

namespace loom::scheduler {

namespace fs = std::filesystem;

CostModel load_cost_model(const JobConfig& job, const fs::path& configs_dir) {
  return CostModel::load(configs_dir / "cost_model.yaml", job.cost_profile, job.model.device,
                         read_model_shape(job.model.path), job.tensor_parallel);
}

fs::path move_results_aside(const fs::path& path) {
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch()).count();
  const fs::path journal = fs::path(path.string() + ".journal");
  if (!fs::exists(path) && !fs::exists(journal)) return {};
  const fs::path moved = fs::path(fmt::format("{}.old-{}", path.string(), now));
  if (fs::exists(path)) fs::rename(path, moved);
  if (fs::exists(journal)) fs::rename(journal, fs::path(moved.string() + ".journal"));
  return moved;
}

PreparedJob prepare_job(const JobConfig& job, const fs::path& configs_dir, const results::JobAttributes& attributes) {
  PreparedJob prepared;
  prepared.cost = load_cost_model(job, configs_dir);
  if (!job.resume) {
    const fs::path moved = move_results_aside(job.output_path);
    if (!moved.empty()) spdlog::info("resume: false; moved the previous results to {}", moved.string());
  }
  if (job.output_path.has_parent_path()) fs::create_directories(job.output_path.parent_path());
  prepared.store = results::ResultStore::open(job.output_path, attributes);
  const std::set<std::string> completed = prepared.store->completed_keys();
  prepared.work = prepare_work(job, configs_dir / "benchmarks", prepared.cost, completed);
  spdlog::info("{} samples x {} methods = {} rows; {} already in {}; {} to run (cost profile {})",
               prepared.work.total_items / std::max<std::size_t>(1, job.methods.size()), job.methods.size(),
               prepared.work.total_items, prepared.work.skipped_completed, job.output_path.string(),
               prepared.work.items.size(), prepared.cost.profile());
  return prepared;
}

results::ResultRow make_row(results::ResultRow row, const WorkOutcome& outcome) {
  row.context_length = outcome.input_tokens;
  row.input_tokens = outcome.input_tokens;
  row.output_tokens = outcome.output_tokens;
  row.prediction = outcome.prediction;
  row.prefill_seconds = outcome.prefill_seconds;
  row.decode_seconds = outcome.decode_seconds;
  row.kv_bytes = outcome.kv_bytes;
  row.peak_memory_bytes = outcome.peak_memory_bytes;
  row.prefill_block_density = outcome.prefill_block_density;
  row.rank = outcome.rank;
  row.group = outcome.group;
  row.status = outcome.ok ? "ok" : "failed";
  row.error = outcome.error;
  row.finished_unix =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  return row;
}

DispatchSummary dispatch_job(const mpi::Comm& world, const std::vector<int>& leaders, PreparedJob& job,
                             double progress_interval_s) {
  const double total_predicted = std::accumulate(job.work.items.begin(), job.work.items.end(), 0.0,
                                                 [](double sum, const WorkItem& item) {
                                                   return sum + item.predicted_seconds;
                                                 });
  ProgressReporter progress(static_cast<int64_t>(job.work.items.size()), total_predicted, progress_interval_s,
                            [](const std::string& line) { spdlog::info("{}", line); });
  auto sink = [&](const WorkOutcome& outcome) {
    auto it = job.work.rows.find(outcome.sample_key);
    LOOM_CHECK(it != job.work.rows.end(), "outcome for unknown or already stored sample {}", outcome.sample_key);
    job.store->append(make_row(std::move(it->second), outcome));
    job.work.rows.erase(it);
  };
  Dispatcher dispatcher(world, leaders, std::move(job.work.items), DispatchOptions{}, sink, &progress);
  job.work.items.clear();
  return dispatcher.run();
}

}  // namespace loom::scheduler
