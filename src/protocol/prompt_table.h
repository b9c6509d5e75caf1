// Rank 0's prompts of a job (docs/architecture.md, "Protocol and prompt flow"). Each sample's Prompt is stored once,
// whatever the number of methods that run it, under the PromptId add() gives it; WorkItems point to it by that id.
// The dispatcher packs each batch's WorkAssignment from the table (each distinct prompt once) and erases a prompt
// once its last item is dispatched, so rank 0's memory shrinks as the job runs. Not thread-safe (one owner).
#pragma once

#include "protocol/work_messages.h"

#include <cstddef>
#include <cstdint>
#include <unordered_map>
#include <vector>

namespace loom::protocol {

class PromptTable {
 public:
  // Stores the prompt under the next id (0, 1, 2, ...; its `id` field is set to it) and returns the id.
  PromptId add(Prompt prompt);
  // loom::Error when the id is not in the table (never added, or erased).
  const Prompt& at(PromptId id) const;
  bool contains(PromptId id) const { return prompts_.count(id) > 0; }
  void erase(PromptId id);
  std::size_t size() const { return prompts_.size(); }
  // Token ids held over every prompt (input and follow-up): the table's memory is 4 bytes per token plus overhead.
  int64_t stored_tokens() const { return stored_tokens_; }

 private:
  std::unordered_map<PromptId, Prompt> prompts_;
  PromptId next_id_ = 0;
  int64_t stored_tokens_ = 0;
};

// The assignment of a batch: its items (in order) and each distinct prompt they point to, once, in first-use order.
// loom::Error when an item points to a prompt the table lacks.
WorkAssignment pack_assignment(const PromptTable& prompts, std::vector<WorkItem> items);

// The worker's side: an assignment's prompts by id. loom::Error when an item points to a prompt the assignment
// does not carry.
std::unordered_map<PromptId, const Prompt*> prompts_by_id(const WorkAssignment& assignment);

}  // namespace loom::protocol
