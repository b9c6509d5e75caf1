// Round trips of every message struct through the Boost.Serialization byte form the MPI layer sends.
#include "protocol/work_messages.h"

#include "common/mpi/serialize.h"

#include <gtest/gtest.h>

using namespace loom;
using namespace loom::protocol;

TEST(WorkMessages, PromptRoundTrip) {
  Prompt prompt;
  prompt.id = 41;
  prompt.input_ids = {1, 2, 3, 128000, -5};
  prompt.followup_ids = {9, 8};
  prompt.followup_prefix = " [fact: ";
  prompt.followup_suffix = "]";
  const Prompt back = mpi::from_bytes<Prompt>(mpi::to_bytes(prompt));
  EXPECT_EQ(back.id, 41);
  EXPECT_EQ(back.input_ids, prompt.input_ids);
  EXPECT_EQ(back.followup_ids, prompt.followup_ids);
  EXPECT_EQ(back.followup_prefix, " [fact: ");
  EXPECT_EQ(back.followup_suffix, "]");
  EXPECT_FALSE(back.has_chain());
}

TEST(WorkMessages, ChainedPromptAndItsOutcomeRoundTrip) {
  Prompt prompt;
  prompt.input_ids = {1, 2, 3};
  prompt.chain_before = "<|user|>Letâs think step by step: ";
  prompt.chain_after = "\n\nBased on the above ...<|assistant|>";
  prompt.chain_add_special_tokens = true;
  prompt.chain_max_new_tokens = 128;
  prompt.chain_tokens = 57;
  const Prompt back = mpi::from_bytes<Prompt>(mpi::to_bytes(prompt));
  EXPECT_TRUE(back.has_chain());
  EXPECT_EQ(back.chain_before, prompt.chain_before);
  EXPECT_EQ(back.chain_after, prompt.chain_after);
  EXPECT_TRUE(back.chain_add_special_tokens);
  EXPECT_EQ(back.chain_max_new_tokens, 128);
  EXPECT_EQ(back.chain_tokens, 57);
  WorkItem item;
  item.generation.max_new_tokens = 1024;
  // The chained generation runs after the first: the item needs the larger of the two in KV room.
  EXPECT_EQ(item_tokens(back, item), 57 + 1024 + 128);
  prompt.input_ids.assign(2000, 5);
  EXPECT_EQ(item_tokens(prompt, item), 2000 + 1024);
  WorkOutcome outcome;
  outcome.prediction = "The correct answer is (B)";
  outcome.first_output = "The fee is 2 dollars, so B.";
  const WorkOutcome out = mpi::from_bytes<WorkOutcome>(mpi::to_bytes(outcome));
  EXPECT_EQ(out.prediction, outcome.prediction);
  EXPECT_EQ(out.first_output, outcome.first_output);
}

TEST(WorkMessages, WorkItemRoundTrip) {
  WorkItem item;
  item.sample_key = "RULER/niah_single_1/4096/3/snapkv@0.5";
  item.prompt_id = 41;
  item.generation.max_new_tokens = 128;
  item.generation.do_sample = true;
  item.generation.temperature = 0.7f;
  item.generation.stop_strings = {"\n\n", "</s>"};
  item.generation.eos_token_ids = {2, 7};
  item.method = MethodSpec{"snapkv", R"({"compression_ratio":0.5})", "snapkv@0.5"};
  item.predicted_seconds = 12.5;
  const WorkItem back = mpi::from_bytes<WorkItem>(mpi::to_bytes(item));
  EXPECT_EQ(back.sample_key, item.sample_key);
  EXPECT_EQ(back.prompt_id, 41);
  EXPECT_EQ(back.generation.max_new_tokens, 128);
  EXPECT_TRUE(back.generation.do_sample);
  EXPECT_FLOAT_EQ(back.generation.temperature, 0.7f);
  EXPECT_EQ(back.generation.stop_strings, item.generation.stop_strings);
  EXPECT_EQ(back.generation.eos_token_ids, item.generation.eos_token_ids);
  EXPECT_EQ(back.method.params_json, item.method.params_json);
  EXPECT_EQ(back.method.label, "snapkv@0.5");
  EXPECT_DOUBLE_EQ(back.predicted_seconds, 12.5);
}

TEST(WorkMessages, RequestWithOutcomesRoundTrip) {
  WorkRequest request;
  request.group = 3;
  request.capacity = 4;
  request.device = "NVIDIA H100 80GB HBM3";
  WorkOutcome ok;
  ok.sample_key = "a";
  ok.prediction = "The special magic number is 12345.\nünïcödé";
  ok.cost.input_tokens = 4096;
  ok.cost.output_tokens = 12;
  ok.cost.prefill_seconds = 0.5;
  ok.cost.decode_seconds = 0.25;
  ok.cost.kv_bytes = 1 << 20;
  ok.cost.peak_memory_bytes = int64_t{5} << 32;
  ok.rank = 6;
  ok.group = 3;
  WorkOutcome failed;
  failed.sample_key = "b";
  failed.ok = false;
  failed.error = "CUDA out of memory";
  request.outcomes = {ok, failed};
  const WorkRequest back = mpi::from_bytes<WorkRequest>(mpi::to_bytes(request));
  EXPECT_EQ(back.group, 3);
  EXPECT_EQ(back.capacity, 4);
  EXPECT_EQ(back.device, request.device);
  ASSERT_EQ(back.outcomes.size(), 2u);
  EXPECT_EQ(back.outcomes[0].prediction, ok.prediction);
  EXPECT_EQ(back.outcomes[0].cost.peak_memory_bytes, ok.cost.peak_memory_bytes);
  EXPECT_EQ(back.outcomes[0].rank, 6);
  EXPECT_FALSE(back.outcomes[1].ok);
  EXPECT_EQ(back.outcomes[1].error, "CUDA out of memory");
}

// The outcome's cost record is serialized column by column from cost_columns(): give every column a value that is
// not its default and expect each back, so a column added to the table travels without further code.
TEST(WorkMessages, EveryCostColumnTravelsInAnOutcome) {
  WorkOutcome outcome;
  outcome.sample_key = "k";
  const auto& columns = cost_columns();
  for (size_t i = 0; i < columns.size(); ++i) set_cost_value(outcome.cost, columns[i].field, 3.0 + 2.0 * i);
  outcome.rank = 5;
  WorkRequest request;
  request.outcomes = {outcome};
  const WorkRequest back = mpi::from_bytes<WorkRequest>(mpi::to_bytes(request));
  ASSERT_EQ(back.outcomes.size(), 1u);
  for (size_t i = 0; i < columns.size(); ++i)
    EXPECT_EQ(cost_value(back.outcomes[0].cost, columns[i].field), 3.0 + 2.0 * i) << columns[i].name;
  EXPECT_EQ(back.outcomes[0].cost.prefill_shared_by, 17);  // the eighth column
  EXPECT_EQ(back.outcomes[0].rank, 5);                     // the fields after the record still line up
}

TEST(WorkMessages, AssignmentRoundTrip) {
  WorkAssignment stop;
  stop.stop = true;
  EXPECT_TRUE(mpi::from_bytes<WorkAssignment>(mpi::to_bytes(stop)).stop);
  WorkAssignment work;
  work.prompts.resize(1);
  work.prompts[0].id = 5;
  work.prompts[0].input_ids.assign(100000, 7);
  work.items.resize(3);
  work.items[2].sample_key = "third";
  work.items[2].prompt_id = 5;
  const auto back = mpi::from_bytes<WorkAssignment>(mpi::to_bytes(work));
  EXPECT_FALSE(back.stop);
  ASSERT_EQ(back.items.size(), 3u);
  EXPECT_EQ(back.items[2].prompt_id, 5);
  ASSERT_EQ(back.prompts.size(), 1u);
  EXPECT_EQ(back.prompts[0].input_ids.size(), 100000u);
}
