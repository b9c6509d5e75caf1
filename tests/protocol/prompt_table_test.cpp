// Rank 0's PromptTable and the assignments packed from it: ids are numbered as prompts are added, a prompt is held
// once and leaves with erase(), and an assignment carries each prompt its items use once, so a 13-method sweep of a
// 64K-token prompt costs one prompt on the wire, not thirteen.
#include "protocol/prompt_table.h"

#include "common/error.h"
#include "common/mpi/serialize.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

using namespace loom;
using namespace loom::protocol;

namespace {

Prompt prompt_of(std::size_t tokens, int32_t fill, std::size_t followup = 0) {
  Prompt prompt;
  prompt.input_ids.assign(tokens, fill);
  prompt.followup_ids.assign(followup, fill + 1);
  return prompt;
}

std::vector<WorkItem> sweep(PromptId prompt, int methods) {
  std::vector<WorkItem> items;
  for (int m = 0; m < methods; ++m) {
    WorkItem item;
    item.sample_key = "RULER/vt/65536/0/method" + std::to_string(m);
    item.prompt_id = prompt;
    item.method.name = "snapkv";
    item.method.label = "method" + std::to_string(m);
    items.push_back(item);
  }
  return items;
}

}  // namespace

TEST(PromptTable, NumbersPromptsAndHoldsEachOnce) {
  PromptTable table;
  EXPECT_EQ(table.add(prompt_of(100, 1)), 0);
  EXPECT_EQ(table.add(prompt_of(50, 2, 10)), 1);
  EXPECT_EQ(table.size(), 2u);
  EXPECT_EQ(table.stored_tokens(), 160);
  EXPECT_EQ(table.at(1).id, 1);
  EXPECT_EQ(table.at(1).followup_ids.size(), 10u);
  table.erase(0);
  EXPECT_FALSE(table.contains(0));
  EXPECT_EQ(table.stored_tokens(), 60);
  EXPECT_THROW(table.at(0), Error);
  EXPECT_EQ(table.add(prompt_of(1, 3)), 2);  // ids are never reused
}

TEST(PromptTable, AnAssignmentCarriesASharedPromptOnce) {
  PromptTable table;
  const PromptId shared = table.add(prompt_of(65536, 7));
  const PromptId other = table.add(prompt_of(10, 8));
  const std::vector<WorkItem> thirteen = sweep(shared, 13);

  const WorkAssignment one = pack_assignment(table, {thirteen.front()});
  const WorkAssignment all = pack_assignment(table, thirteen);
  ASSERT_EQ(all.items.size(), 13u);
  ASSERT_EQ(all.prompts.size(), 1u);
  EXPECT_EQ(all.prompts[0].id, shared);
  EXPECT_EQ(all.prompts[0].input_ids.size(), 65536u);
  // On the wire: 12 more methods add their items (a few hundred bytes), not 12 more copies of 256 KiB of ids.
  const std::size_t prompt_bytes = 65536 * sizeof(int32_t);
  const std::size_t one_bytes = mpi::to_bytes(one).size();
  const std::size_t all_bytes = mpi::to_bytes(all).size();
  std::printf("assignment of a 65,536-token prompt: 1 method %zu bytes, 13 methods %zu bytes (13 copies: >= %zu)\n",
              one_bytes, all_bytes, 13 * prompt_bytes);
  EXPECT_GT(one_bytes, prompt_bytes);
  EXPECT_LT(all_bytes - one_bytes, 12 * 1024u) << "a batch of 13 methods sent the shared prompt more than once";

  // Two prompts in one batch: each once, in first-use order; the worker finds each item's prompt.
  std::vector<WorkItem> mixed = {thirteen[0], thirteen[1]};
  mixed.push_back(sweep(other, 1).front());
  const WorkAssignment two = pack_assignment(table, mixed);
  ASSERT_EQ(two.prompts.size(), 2u);
  EXPECT_EQ(two.prompts[0].id, shared);
  EXPECT_EQ(two.prompts[1].id, other);
  const auto by_id = prompts_by_id(mpi::from_bytes<WorkAssignment>(mpi::to_bytes(two)));
  EXPECT_EQ(by_id.at(other)->input_ids.size(), 10u);
}

TEST(PromptTable, AnItemWithoutItsPromptIsAnError) {
  PromptTable table;
  table.add(prompt_of(4, 1));
  EXPECT_THROW(pack_assignment(table, sweep(9, 1)), Error);
  WorkAssignment missing;
  missing.items = sweep(0, 1);
  EXPECT_THROW(prompts_by_id(missing), Error);
}
