// Dynamic, longest-first dispatch on rank 0 to groups that batch continuously. Group leaders send WorkRequest
// (finished outcomes, free decode slots, free KV tokens); the dispatcher answers each with the most expensive
// remaining item whose whole prompt group (the items of its PromptId, a sweep's other methods, with the same
// prefill chunk size, which the engine prefills once) fits the group's free slots and KV room; a group that holds
// nothing gets the most expensive group whatever its size, up to its capacity. Every request is answered; `stop`
// says the queue is empty. An assignment carries each of its prompts once (protocol::pack_assignment), and a
// prompt leaves the dispatcher's PromptTable once its last item is dispatched.
// It runs until every leader has retired. It polls with MPI_Iprobe and a back-off sleep, so it can share
// rank 0 with that rank's own worker (run on a separate thread; MPI_THREAD_MULTIPLE).
// Outcomes go to the sink in arrival order (rank 0 appends them to the results store there).
#pragma once

#include "common/mpi/mpi_comm.h"
#include "scheduler/progress.h"
#include "protocol/prompt_table.h"
#include "protocol/work_messages.h"

#include <cstdint>
#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

namespace loom::scheduler {

struct DispatchOptions {
  int max_sleep_us = 1000;  // polling back-off ceiling
};

struct DispatchSummary {
  int64_t dispatched = 0;
  int64_t completed = 0;
  int64_t failed = 0;
  int64_t undone = 0;                     // items left when every group had retired (fatal errors)
  std::vector<std::string> fatal_errors;  // "group g (rank r): reason"
  std::vector<std::string> devices;       // "group g (rank r): device" from each group's first request
  int64_t requests = 0;
};

class Dispatcher {
 public:
  using OutcomeSink = std::function<void(const protocol::WorkOutcome&)>;

  // leaders: world ranks of the group leaders (each sends requests until stopped). prompts: every prompt the items
  // point to (loom::Error otherwise). Items may be in any order.
  Dispatcher(const mpi::Comm& world, std::vector<int> leaders, protocol::PromptTable prompts,
             std::vector<protocol::WorkItem> items, DispatchOptions options, OutcomeSink sink,
             ProgressReporter* progress);
  DispatchSummary run();

 private:
  std::vector<protocol::WorkItem> next_batch(const protocol::WorkRequest& request);
  std::vector<std::size_t> prompt_group(std::size_t first) const;  // untaken queue indices of first's prompt
  int64_t tokens_of(std::size_t index) const;                      // item_tokens of queue_[index]
  // The batch with its prompts, each once; prompts whose every item is now dispatched leave the table.
  protocol::WorkAssignment assignment_for(std::vector<protocol::WorkItem> batch);

  const mpi::Comm& world_;
  std::vector<int> leaders_;
  protocol::PromptTable prompts_;
  std::vector<protocol::WorkItem> queue_;  // sorted by decreasing predicted cost
  std::vector<bool> taken_;
  std::unordered_map<protocol::PromptId, std::vector<std::size_t>> same_prompt_;  // prompt -> queue indices
  std::unordered_map<protocol::PromptId, int64_t> undispatched_;                   // prompt -> items not yet sent
  std::size_t head_ = 0;
  DispatchOptions options_;
  OutcomeSink sink_;
  ProgressReporter* progress_;
};

}  // namespace loom::scheduler
