#include "scheduler/dispatcher.h"

#include "common/error.h"
#include "common/mpi/backoff.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <set>

namespace loom::scheduler {

using protocol::WorkAssignment;
using protocol::WorkItem;
using protocol::WorkOutcome;
using protocol::WorkRequest;

Dispatcher::Dispatcher(const mpi::Comm& world, std::vector<int> leaders, protocol::PromptTable prompts,
                       std::vector<WorkItem> items, DispatchOptions options, OutcomeSink sink,
                       ProgressReporter* progress)
    : world_(world),
      leaders_(std::move(leaders)),
      prompts_(std::move(prompts)),
      queue_(std::move(items)),
      taken_(queue_.size(), false),
      options_(options),
      sink_(std::move(sink)),
      progress_(progress) {
  std::stable_sort(queue_.begin(), queue_.end(),
                   [](const WorkItem& a, const WorkItem& b) { return a.predicted_seconds > b.predicted_seconds; });
  for (std::size_t i = 0; i < queue_.size(); ++i) {
    const protocol::PromptId prompt = queue_[i].prompt_id;
    LOOM_CHECK(prompts_.contains(prompt), "work item {} points to prompt {}, which the dispatcher was not given",
               queue_[i].sample_key, prompt);
    same_prompt_[prompt].push_back(i);
    ++undispatched_[prompt];
  }
}

std::vector<std::size_t> Dispatcher::prompt_group(std::size_t first) const {
  std::vector<std::size_t> group{first};
  const WorkItem& lead = queue_[first];
  for (std::size_t i : same_prompt_.at(lead.prompt_id)) {
    if (i == first || taken_[i] || queue_[i].generation.prefill_chunk_size != lead.generation.prefill_chunk_size) {
      continue;
    }
    group.push_back(i);
  }
  return group;
}

int64_t Dispatcher::tokens_of(std::size_t index) const {
  return protocol::item_tokens(prompts_.at(queue_[index].prompt_id), queue_[index]);
}

WorkAssignment Dispatcher::assignment_for(std::vector<WorkItem> batch) {
  WorkAssignment assignment = protocol::pack_assignment(prompts_, std::move(batch));
  for (const WorkItem& item : assignment.items) {
    if (--undispatched_[item.prompt_id] == 0) {
      undispatched_.erase(item.prompt_id);
      prompts_.erase(item.prompt_id);
    }
  }
  return assignment;
}

std::vector<WorkItem> Dispatcher::next_batch(const WorkRequest& request) {
  std::vector<WorkItem> batch;
  const std::size_t capacity = static_cast<std::size_t>(std::max(0, request.capacity));
  if (capacity == 0) return batch;
  while (head_ < queue_.size() && taken_[head_]) ++head_;
  if (head_ >= queue_.size()) return batch;
  // The most expensive item whose whole prompt group (a sweep's methods, prefilled once) fits the group's free
  // slots and KV room. A group holding nothing takes the head's group whatever its size, up to its capacity (an
  // item too large for it fails there with the reason, which is recorded).
  std::vector<std::size_t> chosen;
  if (request.running == 0) {
    chosen = prompt_group(head_);
    if (chosen.size() > capacity) chosen.resize(capacity);
  } else {
    for (std::size_t i = head_; i < queue_.size(); ++i) {
      if (taken_[i]) continue;
      std::vector<std::size_t> group = prompt_group(i);
      int64_t tokens = 0;
      for (std::size_t j : group) tokens += tokens_of(j);
      if (group.size() <= capacity && tokens <= request.free_kv_tokens) {
        chosen = std::move(group);
        break;
      }
    }
  }
  for (std::size_t i : chosen) {
    taken_[i] = true;
    batch.push_back(std::move(queue_[i]));
  }
  return batch;
}

DispatchSummary Dispatcher::run() {
  DispatchSummary summary;
  std::set<int> active(leaders_.begin(), leaders_.end());
  std::map<int, std::map<std::string, double>> in_flight;  // leader -> predicted seconds of the items it holds
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
      const auto it = predicted.find(outcome.sample_key);
      if (progress_) {
        progress_->record(outcome.ok, outcome.cost.input_tokens + outcome.cost.output_tokens,
                          it == predicted.end() ? 0.0 : it->second);
      }
      if (it != predicted.end()) predicted.erase(it);
    }
    if (!request.device.empty()) {
      summary.devices.push_back(fmt::format("group {} (rank {}): {}", request.group, leader, request.device));
    }
    WorkAssignment assignment;
    if (!request.fatal_error.empty() || request.retiring) {
      if (!request.fatal_error.empty()) {
        summary.fatal_errors.push_back(
            fmt::format("group {} (rank {}): {}", request.group, leader, request.fatal_error));
        spdlog::error("worker group {} (rank {}) cannot work and retires: {}", request.group, leader,
                      request.fatal_error);
      }
      LOOM_CHECK(predicted.empty() || !request.fatal_error.empty(),
                 "group {} retires with {} items still in flight", request.group, predicted.size());
      in_flight.erase(leader);
      active.erase(leader);
      assignment.stop = true;
      assignment.retire = true;
      world_.send(assignment, leader, mpi::MessageTag::kWorkAssignment);
      continue;
    }
    std::vector<WorkItem> batch = next_batch(request);
    summary.dispatched += static_cast<int64_t>(batch.size());
    for (const WorkItem& item : batch) predicted[item.sample_key] = item.predicted_seconds;
    while (head_ < queue_.size() && taken_[head_]) ++head_;
    assignment = assignment_for(std::move(batch));
    assignment.stop = head_ >= queue_.size();
    world_.send(assignment, leader, mpi::MessageTag::kWorkAssignment);
  }
  for (std::size_t i = head_; i < queue_.size(); ++i) {
    if (!taken_[i]) ++summary.undone;
  }
  if (progress_) progress_->report_now();
  return summary;
}

}  // namespace loom::scheduler
