#include "protocol/prompt_table.h"

#include "common/error.h"

#include <unordered_set>
#include <utility>

namespace loom::protocol {

namespace {

int64_t tokens_of(const Prompt& prompt) {
  return static_cast<int64_t>(prompt.input_ids.size() + prompt.followup_ids.size());
}

}  // namespace

PromptId PromptTable::add(Prompt prompt) {
  const PromptId id = next_id_++;
  prompt.id = id;
  stored_tokens_ += tokens_of(prompt);
  prompts_.emplace(id, std::move(prompt));
  return id;
}

const Prompt& PromptTable::at(PromptId id) const {
  const auto it = prompts_.find(id);
  LOOM_CHECK(it != prompts_.end(), "prompt {} is not in rank 0's prompt table", id);
  return it->second;
}

void PromptTable::erase(PromptId id) {
  const auto it = prompts_.find(id);
  if (it == prompts_.end()) return;
  stored_tokens_ -= tokens_of(it->second);
  prompts_.erase(it);
}

WorkAssignment pack_assignment(const PromptTable& prompts, std::vector<WorkItem> items) {
  WorkAssignment assignment;
  std::unordered_set<PromptId> packed;
  for (const WorkItem& item : items) {
    if (packed.insert(item.prompt_id).second) assignment.prompts.push_back(prompts.at(item.prompt_id));
  }
  assignment.items = std::move(items);
  return assignment;
}

std::unordered_map<PromptId, const Prompt*> prompts_by_id(const WorkAssignment& assignment) {
  std::unordered_map<PromptId, const Prompt*> by_id;
  for (const Prompt& prompt : assignment.prompts) by_id[prompt.id] = &prompt;
  for (const WorkItem& item : assignment.items) {
    LOOM_CHECK(by_id.count(item.prompt_id), "work item {} points to prompt {}, which its assignment does not carry",
               item.sample_key, item.prompt_id);
  }
  return by_id;
}

}  // namespace loom::protocol
