// Dispatcher + continuous-batching worker loop under mpirun with the fake engine (tests/doubles): rank 0 dispatches
// on a thread and works on its main thread, as `loom_mpi run` does. Checks: every item comes back exactly once,
// failures (engine result !ok, step() throwing) become failed outcomes and the job goes on, groups hold several
// items at once and never more than their free slots or KV room, tensor-parallel groups (tp=2) submit the same
// items on both ranks, a sweep's assignments hold one prompt under all its methods (one PromptId, which the engine
// groups by), and a group that cannot load retires cleanly.
#include "common/mpi/mpi_comm.h"
#include "doubles/fake_engine.h"
#include "protocol/prompt_table.h"
#include "rank/worker/worker_loop.h"
#include "scheduler/dispatcher.h"

#include <gtest/gtest.h>

#include <map>
#include <thread>

using namespace loom;
using loom::mpi::Comm;
using loom::protocol::Prompt;
using loom::protocol::PromptTable;
using loom::protocol::WorkAssignment;
using loom::protocol::WorkItem;
using loom::protocol::WorkOutcome;

namespace {

// What rank 0 prepares: the prompts, each once, and the items that point to them.
struct Work {
  PromptTable prompts;
  std::vector<WorkItem> items;
};

Prompt prompt_of(std::size_t tokens, int32_t fill) {
  Prompt prompt;
  prompt.input_ids.assign(tokens, fill);
  return prompt;
}

Work make_items(int count) {
  Work work;
  for (int i = 0; i < count; ++i) {
    WorkItem item;
    item.sample_key = "b/t/" + std::to_string(i) + (i % 17 == 5 ? "/fail" : "") + (i == 33 ? "/throw" : "");
    const std::size_t tokens = static_cast<std::size_t>(10 + (i * 37) % 200);
    item.prompt_id = work.prompts.add(prompt_of(tokens, i));
    item.method.label = i % 2 ? "full" : "snapkv";
    item.predicted_seconds = static_cast<double>(tokens);
    item.generation.max_new_tokens = 32;
    work.items.push_back(item);
  }
  return work;
}

// A sweep: `samples` prompts (distinct ids, decreasing length) x the methods full, snapkv, kivi.
Work make_sweep_items(int samples) {
  Work work;
  std::vector<loom::protocol::PromptId> prompts;
  for (int i = 0; i < samples; ++i) {
    prompts.push_back(work.prompts.add(prompt_of(static_cast<std::size_t>(300 - 5 * i), i)));
  }
  for (const char* method : {"full", "snapkv", "kivi"}) {
    for (int i = 0; i < samples; ++i) {
      WorkItem item;
      item.sample_key = "b/t/" + std::to_string(i) + "/" + method;
      item.prompt_id = prompts[static_cast<std::size_t>(i)];
      item.method.label = method;
      item.predicted_seconds = static_cast<double>(300 - 5 * i);
      work.items.push_back(item);
    }
  }
  return work;
}

struct RunResult {
  std::map<std::string, int> seen;  // key -> times
  std::vector<WorkOutcome> outcomes;
  scheduler::DispatchSummary summary;
  std::vector<std::vector<std::string>> batches;  // this rank's engine submissions (sample keys)
  std::vector<std::vector<int64_t>> batch_prompt_ids;  // and their engine prompt ids
  int max_held = 0;                               // most requests this rank's engine held at once
  int64_t max_held_tokens = 0;
};

// Runs one job over the world with groups of `tp`; `broken_group` (if >= 0) reports a load error.
RunResult run_job(int tp, int count, int capacity, int broken_group, bool sweep = false,
                  int64_t kv_budget = int64_t{1} << 40) {
  Comm world = Comm::world();
  const int group_index = world.rank() / tp;
  Comm group = world.split(group_index, world.rank());
  std::vector<int> leaders;
  for (int r = 0; r < world.size(); r += tp) leaders.push_back(r);
  RunResult result;
  std::thread dispatcher;
  if (world.rank() == 0) {
    dispatcher = std::thread([&] {
      Work work = sweep ? make_sweep_items(count) : make_items(count);
      scheduler::Dispatcher d(world, leaders, std::move(work.prompts), std::move(work.items), {},
                              [&](const WorkOutcome& outcome) {
        ++result.seen[outcome.sample_key];
        result.outcomes.push_back(outcome);
      }, nullptr);
      result.summary = d.run();
    });
  }
  loom::testing::FakeEngine engine(0, capacity, kv_budget);
  const std::string load_error = worker::agree_on_load(group, group_index == broken_group ? "no weights" : "");
  worker::WorkerOptions options;
  options.group_index = group_index;
  const auto summary = worker::run_worker_loop(world, group, load_error.empty() ? &engine : nullptr, load_error,
                                               options);
  if (group_index == broken_group) {
    EXPECT_EQ(summary.items, 0);
  }
  // Every member of a group ran the same batches.
  EXPECT_EQ(group.all_reduce_min(summary.items), group.all_reduce_max(summary.items));
  if (dispatcher.joinable()) dispatcher.join();
  result.batches = engine.batches();
  result.batch_prompt_ids = engine.batch_prompt_ids();
  result.max_held = engine.max_held();
  result.max_held_tokens = engine.max_held_tokens();
  return result;
}

void expect_complete(const RunResult& result, int count) {
  EXPECT_EQ(static_cast<int>(result.seen.size()), count);
  for (const auto& [key, times] : result.seen) EXPECT_EQ(times, 1) << key;
  int failed = 0;
  for (const WorkOutcome& outcome : result.outcomes) {
    const bool should_fail = outcome.sample_key.find("fail") != std::string::npos ||
                             outcome.sample_key.find("throw") != std::string::npos;
    EXPECT_EQ(outcome.ok, !should_fail) << outcome.sample_key;
    if (!outcome.ok) {
      ++failed;
      EXPECT_FALSE(outcome.error.empty());
    } else {
      EXPECT_EQ(outcome.prediction.rfind("len=", 0), 0u);
      EXPECT_EQ(outcome.cost.output_tokens, 3);
    }
  }
  EXPECT_EQ(result.summary.failed, failed);
  EXPECT_EQ(result.summary.completed, count);
  EXPECT_EQ(result.summary.undone, 0);
}

TEST(Dispatch, EveryItemExactlyOnceSingleRankGroups) {
  const RunResult result = run_job(1, 120, 1, -1);
  if (Comm::world().rank() == 0) expect_complete(result, 120);
}

TEST(Dispatch, GroupsHoldSeveralItemsAtOnce) {
  const RunResult result = run_job(1, 90, 4, -1);
  EXPECT_LE(result.max_held, 4);
  EXPECT_GE(Comm::world().all_reduce_max(result.max_held), 2);  // continuous batching happened somewhere
  if (Comm::world().rank() != 0) return;
  EXPECT_EQ(static_cast<int>(result.seen.size()), 90);
  for (const auto& [key, times] : result.seen) EXPECT_EQ(times, 1) << key;
  // An engine step that throws fails the 'throw' item and whatever its group held with it.
  for (const WorkOutcome& outcome : result.outcomes) {
    if (outcome.ok) continue;
    const bool expected = outcome.sample_key.find("fail") != std::string::npos ||
                          outcome.error.find("engine step failed") != std::string::npos;
    EXPECT_TRUE(expected) << outcome.sample_key << ": " << outcome.error;
  }
}

TEST(Dispatch, AssignmentsFitTheKvRoom) {
  // Items hold 10..209 prompt tokens + 32 new tokens; a group's KV room is 500 tokens. A group holding nothing takes
  // the longest item whatever its size; otherwise an item must fit what is left.
  const RunResult result = run_job(1, 60, 8, -1, false, 500);
  EXPECT_LE(result.max_held_tokens, 500);
  EXPECT_GE(Comm::world().all_reduce_max(result.max_held), 2);
  if (Comm::world().rank() == 0) {
    EXPECT_EQ(static_cast<int>(result.seen.size()), 60);
    for (const auto& [key, times] : result.seen) EXPECT_EQ(times, 1) << key;
  }
}

TEST(Dispatch, SweepBatchesHoldOnePromptUnderEveryMethod) {
  // Capacity 3 and 3 methods: each assignment is the three methods of one prompt (the engine prefills it once).
  const RunResult result = run_job(1, 20, 3, -1, /*sweep=*/true);
  for (std::size_t b = 0; b < result.batches.size(); ++b) {
    const auto& batch = result.batches[b];
    ASSERT_EQ(batch.size(), 3u);
    const std::string prompt = batch[0].substr(0, batch[0].rfind('/'));
    for (const std::string& key : batch) EXPECT_EQ(key.substr(0, key.rfind('/')), prompt) << key;
    // The engine sees one prompt identity for the three methods (it groups batch mates by it).
    const auto& ids = result.batch_prompt_ids[b];
    EXPECT_GE(ids[0], 0);
    for (int64_t id : ids) EXPECT_EQ(id, ids[0]) << batch[0];
  }
  if (Comm::world().rank() != 0) return;
  EXPECT_EQ(static_cast<int>(result.seen.size()), 60);
  for (const auto& [key, times] : result.seen) EXPECT_EQ(times, 1) << key;
}

TEST(Dispatch, FollowUpGenerationJoinsThePrediction) {
  // LEval sci_fi: a second generation runs in the same submission and is appended as " [fact: ...]".
  loom::testing::FakeEngine engine(0, 4);
  PromptTable prompts;
  Prompt document;
  document.input_ids = {1, 2, 3, 4, 5};
  Prompt with_question = document;
  with_question.followup_ids = {7, 7, 7};
  with_question.followup_prefix = " [fact: ";
  with_question.followup_suffix = "]";
  WorkItem plain;
  plain.sample_key = "LEval/coursera/0/0/full";
  plain.prompt_id = prompts.add(document);
  WorkItem with_fact;
  with_fact.sample_key = "LEval/sci_fi/0/0/full";
  with_fact.prompt_id = prompts.add(with_question);
  const auto outcomes = worker::run_batch(engine, loom::protocol::pack_assignment(prompts, {plain, with_fact}), 0, 0);
  ASSERT_EQ(outcomes.size(), 2u);
  EXPECT_EQ(outcomes[0].prediction, "len=5 first=1");
  EXPECT_EQ(outcomes[0].cost.output_tokens, 3);
  EXPECT_EQ(outcomes[1].sample_key, "LEval/sci_fi/0/0/full");
  EXPECT_EQ(outcomes[1].prediction, "len=5 first=1 [fact: len=3 first=7]");
  EXPECT_EQ(outcomes[1].cost.output_tokens, 6);
  EXPECT_EQ(outcomes[1].cost.input_tokens, 5);
  ASSERT_EQ(engine.batches().size(), 1u);  // one submission for both generations
  EXPECT_EQ(engine.batches()[0].size(), 3u);
  // The follow-up is its own prompt for the engine: it never shares the document's prefill.
  const auto& ids = engine.batch_prompt_ids()[0];
  EXPECT_EQ(ids, (std::vector<int64_t>{worker::engine_prompt_id(plain.prompt_id, false),
                                       worker::engine_prompt_id(with_fact.prompt_id, false),
                                       worker::engine_prompt_id(with_fact.prompt_id, true)}));
  EXPECT_NE(ids[1], ids[2]);
  WorkItem failing = with_fact;
  failing.sample_key = "LEval/sci_fi/0/1/fail";
  const auto failed = worker::run_batch(engine, loom::protocol::pack_assignment(prompts, {failing}), 0, 0);
  EXPECT_FALSE(failed[0].ok);
  EXPECT_TRUE(failed[0].prediction.empty());
}

TEST(Dispatch, ChainedGenerationRunsOnTheFirstOutput) {
  // LongBench v2 cot: the second generation's input is the tokenized chain_before + first output + chain_after,
  // submitted once the first is done; the prediction is its output, first_output the first's.
  loom::testing::FakeEngine engine(0, 4);
  PromptTable prompts;
  Prompt cot;
  cot.input_ids = {1, 2, 3, 4, 5};
  cot.chain_before = "Q: ";
  cot.chain_after = " A:";
  cot.chain_add_special_tokens = true;
  cot.chain_max_new_tokens = 7;
  cot.chain_tokens = 6;
  std::vector<std::pair<std::string, bool>> encoded;
  const worker::TextEncoder encode = [&](const std::string& text, bool special) {
    encoded.emplace_back(text, special);
    if (text.find("len=9") != std::string::npos) throw std::runtime_error("no such token");
    return std::vector<int32_t>(text.size(), 9);  // one id per byte: the fake engine's output shows the length
  };
  WorkItem item;
  item.sample_key = "LongBench_v2/longbench_v2/0/0/full";
  item.prompt_id = prompts.add(cot);
  item.generation.max_new_tokens = 1024;
  EXPECT_EQ(protocol::item_tokens(prompts.at(item.prompt_id), item), 6 + 1024 + 7);  // the chained input is larger
  const auto outcomes = worker::run_batch(engine, loom::protocol::pack_assignment(prompts, {item}), 0, 0, encode);
  ASSERT_EQ(outcomes.size(), 1u);
  EXPECT_TRUE(outcomes[0].ok) << outcomes[0].error;
  EXPECT_EQ(outcomes[0].first_output, "len=5 first=1");
  EXPECT_EQ(outcomes[0].prediction, "len=19 first=9");  // "Q: " + "len=5 first=1" + " A:"
  EXPECT_EQ(outcomes[0].cost.input_tokens, 5);          // the row's context length stays the first prompt's
  EXPECT_EQ(outcomes[0].cost.output_tokens, 6);
  ASSERT_EQ(encoded.size(), 1u);
  EXPECT_EQ(encoded[0], std::make_pair(std::string("Q: len=5 first=1 A:"), true));
  // Two submissions: the chained request waits for the first output; it has no prompt identity and its own budget.
  ASSERT_EQ(engine.batches().size(), 2u);
  EXPECT_EQ(engine.batches()[1], std::vector<std::string>{item.sample_key + "#chain"});
  EXPECT_EQ(engine.batch_prompt_ids()[1], std::vector<int64_t>{-1});

  // A chained input that cannot be tokenized, a worker without a tokenizer, a failed first generation: failed
  // outcomes with the reason (the first output kept where there is one).
  Prompt short_prompt = cot;
  short_prompt.input_ids = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  WorkItem bad = item;
  bad.sample_key = "LongBench_v2/longbench_v2/0/1/full";
  bad.prompt_id = prompts.add(short_prompt);
  const auto bad_outcome = worker::run_batch(engine, loom::protocol::pack_assignment(prompts, {bad}), 0, 0, encode);
  EXPECT_FALSE(bad_outcome[0].ok);
  EXPECT_NE(bad_outcome[0].error.find("chained generation failed: its input could not be tokenized: no such token"),
            std::string::npos) << bad_outcome[0].error;
  EXPECT_EQ(bad_outcome[0].first_output, "len=9 first=1");
  const auto no_encoder = worker::run_batch(engine, loom::protocol::pack_assignment(prompts, {item}), 0, 0);
  EXPECT_FALSE(no_encoder[0].ok);
  EXPECT_NE(no_encoder[0].error.find("no tokenizer"), std::string::npos) << no_encoder[0].error;
  WorkItem failing = item;
  failing.sample_key = "LongBench_v2/longbench_v2/0/2/fail";
  const auto failed = worker::run_batch(engine, loom::protocol::pack_assignment(prompts, {failing}), 0, 0, encode);
  EXPECT_FALSE(failed[0].ok);
  EXPECT_EQ(failed[0].error, "fake engine: out of memory");
  EXPECT_TRUE(failed[0].first_output.empty());

  // pred.py strips the chain of thought (Python's str.strip()).
  EXPECT_EQ(worker::strip_output(" \n\tThe answer is (A).\r\n \x1f"), "The answer is (A).");
  EXPECT_EQ(worker::strip_output(" \n "), "");
}

TEST(Dispatch, TensorParallelGroupsOfTwo) {
  if (Comm::world().size() % 2 != 0) GTEST_SKIP() << "needs an even number of ranks";
  const RunResult result = run_job(2, 60, 1, -1);
  if (Comm::world().rank() == 0) expect_complete(result, 60);
}

TEST(Dispatch, BrokenGroupRetiresAndOthersFinish) {
  const int world = Comm::world().size();
  const int broken = world > 1 ? 1 : -1;
  const RunResult result = run_job(1, 40, 1, broken);
  if (Comm::world().rank() != 0) return;
  expect_complete(result, 40);
  EXPECT_EQ(static_cast<int>(result.summary.fatal_errors.size()), broken >= 0 ? 1 : 0);
}

}  // namespace

int main(int argc, char** argv) {
  loom::mpi::MpiSession session(&argc, &argv, MPI_THREAD_MULTIPLE);
  ::testing::InitGoogleTest(&argc, argv);
  if (Comm::world().rank() != 0) {
    auto& listeners = ::testing::UnitTest::GetInstance()->listeners();
    delete listeners.Release(listeners.default_result_printer());
  }
  const int failed = RUN_ALL_TESTS();
  return static_cast<int>(Comm::world().all_reduce_max(failed));
}
