#include "scheduler/dispatcher.h"

#include "common/error.h"
#include "common/mpi/backoff.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <set>
#include <string_view>

namespace loom::scheduler {

Dispatcher::Dispatcher(const mpi::Comm& world, std::vector<int> leaders, std::vector<WorkItem> items,
                       DispatchOptions options, OutcomeSink sink, ProgressReporter* progress)
    : world_(world),
      leaders_(std::move(leaders)),
      queue_(std::move(items)),
      taken_(queue_.size(), false),
      options_(options),
      sink_(std::move(sink)),
      progress_(progress) {
  std::stable_sort(queue_.begin(), queue_.end(),
                   [](const WorkItem& a, const WorkItem& b) { return a.predicted_seconds > b.predicted_seconds; });
  for (std::size_t i = 0; i < queue_.size(); ++i) same_prompt_[prompt_hash(queue_[i])].push_back(i);
}

uint64_t Dispatcher::prompt_hash(const WorkItem& item) {
  const std::string_view bytes(reinterpret_cast<const char*>(item.input_ids.data()),
                               item.input_ids.size() * sizeof(int32_t));
  return std::hash<std::string_view>{}(bytes) ^
         (static_cast<uint64_t>(item.generation.prefill_chunk_size) * 0x9E3779B97F4A7C15ULL);
}

std::vector<WorkItem> Dispatcher::next_batch(int capacity) {
  std::vector<WorkItem> batch;
  batch.reserve(static_cast<std::size_t>(std::max(1, capacity)));  // `first` below must stay valid
  while (head_ < queue_.size() && taken_[head_]) ++head_;
  if (head_ >= queue_.size()) return batch;
  taken_[head_] = true;
  batch.push_back(std::move(queue_[head_]));
  const WorkItem& first = batch.front();
  // The same prompt under the sweep's other methods: one prefill for all of them in the engine.
  for (std::size_t i : same_prompt_.at(prompt_hash(first))) {
    if (static_cast<int>(batch.size()) >= capacity) break;
    if (taken_[i] || queue_[i].input_ids != first.input_ids ||
        queue_[i].generation.prefill_chunk_size != first.generation.prefill_chunk_size) {
      continue;
    }
    taken_[i] = true;
    batch.push_back(std::move(queue_[i]));
  }
  const double min_length = options_.batch_min_length_ratio * static_cast<double>(first.input_ids.size());
  const std::size_t end = std::min(queue_.size(), head_ + 1 + options_.batch_search_window);
  for (std::size_t i = head_ + 1; i < end && static_cast<int>(batch.size()) < capacity; ++i) {
    if (taken_[i] || queue_[i].method.label != first.method.label) continue;
    if (static_cast<double>(queue_[i].input_ids.size()) < min_length) break;  // sorted: the rest are shorter still
    taken_[i] = true;
    batch.push_back(std::move(queue_[i]));
  }
  return batch;
}

DispatchSummary Dispatcher::run() {
  DispatchSummary summary;
  std::set<int> active(leaders_.begin(), leaders_.end());
  std::map<int, std::map<std::string, double>> in_flight;  // leader -> predicted seconds of its current batch
  mpi::Backoff backoff(options_.max_sleep_us);
  while (!active.empty()) {
    const auto source = world_.iprobe(MPI_ANY_SOURCE, mpi::MessageTag::kWorkRequest);
    if (!source) {
      if (progress_) progress_->maybe_report();
      backoff.pause();
      continue;
    }
    backoff.reset();
    int leader = -1;
    const auto request =
        world_.recv<WorkRequest>(*source, mpi::MessageTag::kWorkRequest, &leader, mpi::WaitPolicy::busy());
    ++summary.requests;
    LOOM_CHECK(active.count(leader), "work request from rank {}, which is not an active group leader", leader);
    std::map<std::string, double>& predicted = in_flight[leader];
    for (const WorkOutcome& outcome : request.outcomes) {
      ++summary.completed;
      if (!outcome.ok) ++summary.failed;
      sink_(outcome);
      if (progress_) {
        progress_->record(outcome.ok, outcome.input_tokens + outcome.output_tokens, predicted[outcome.sample_key]);
      }
    }
    in_flight.erase(leader);
    if (!request.device.empty()) {
      summary.devices.push_back(fmt::format("group {} (rank {}): {}", request.group, leader, request.device));
    }
    std::vector<WorkItem> batch;
    if (request.fatal_error.empty()) {
      batch = next_batch(std::max(1, request.capacity));
    } else {
      summary.fatal_errors.push_back(fmt::format("group {} (rank {}): {}", request.group, leader, request.fatal_error));
      spdlog::error("worker group {} (rank {}) cannot work and retires: {}", request.group, leader,
                    request.fatal_error);
    }
    WorkAssignment assignment;
    assignment.stop = batch.empty();
    if (assignment.stop) {
      active.erase(leader);
      world_.send(assignment, leader, mpi::MessageTag::kWorkAssignment);
      continue;
    }
    summary.dispatched += static_cast<int64_t>(batch.size());
    for (const WorkItem& item : batch) in_flight[leader][item.sample_key] = item.predicted_seconds;
    assignment.items = std::move(batch);
    world_.send(assignment, leader, mpi::MessageTag::kWorkAssignment);
  }
  for (std::size_t i = head_; i < queue_.size(); ++i) {
    if (!taken_[i]) ++summary.undone;
  }
  if (progress_) progress_->report_now();
  return summary;
}

}  // namespace loom::scheduler
