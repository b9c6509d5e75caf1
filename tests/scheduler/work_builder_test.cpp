// Rank 0's preparation (work_builder.h) on the fixture model: a sweep stores each sample's prompt once, whatever the
// number of methods (the items point to it by PromptId), and a sample whose prompt cannot be built becomes failed
// outcomes with the reason while the other samples are prepared.
#include "common/error.h"
#include "common/mpi/serialize.h"
#include "model_card/model_card.h"
#include "scheduler/coordinator.h"
#include "scheduler/job_parser.h"
#include "scheduler/work_builder.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <set>
#include <string>

namespace fs = std::filesystem;
using namespace loom::scheduler;

namespace {

const fs::path kSource = LOOM_SOURCE_DIR;

PreparedWork prepare(const std::string& text, const std::set<std::string>& completed = {}) {
  const JobConfig job = parse_job_text(text, kSource / "tests" / "scheduler" / "job.yaml",
                                       {kSource / "configs", true, {}});
  const CostModel cost = load_cost_model(job, kSource / "configs", loom::model::read_model_card(job.model.path));
  return prepare_work(job, kSource / "configs" / "benchmarks", cost, completed);
}

const char* kSweep = R"(
name: sweep
model:
  path: ../fixtures/models/llama3_tiny
  device: cpu
benchmarks:
  - name: RULER
    tasks: [niah_single_1]
    lengths: [1K]
    num_samples: 4
    data_dir: ../fixtures/benchmarks/ruler
acceleration:
  - full
  - {name: snapkv, params: {compression_ratio: 0.5}}
  - {name: streaming_llm, params: {compression_ratio: 0.5}}
generation:
  max_new_tokens: 8
)";

// LEval coursera: one document, three questions; the second question alone is longer than 512 - 8 tokens.
const char* kOverlong = R"(
name: overlong
model:
  path: ../fixtures/models/llama3_tiny
  device: cpu
  max_context: 512
benchmarks:
  - name: LEval
    tasks: [coursera]
    data_dir: ../fixtures/benchmarks/leval_overlong
acceleration:
  - full
  - {name: snapkv, params: {compression_ratio: 0.5}}
generation:
  max_new_tokens: 8
)";

}  // namespace

TEST(WorkBuilder, ASweepStoresEachPromptOnce) {
  const PreparedWork work = prepare(kSweep);
  ASSERT_EQ(work.items.size(), 12u);  // 4 samples x 3 methods
  // One stored prompt per sample, not per (sample, method): were the ids copied per method, the table would hold
  // 12 prompts and three times the tokens.
  EXPECT_EQ(work.prompts.size(), 4u);
  std::map<loom::protocol::PromptId, int> methods_per_prompt;
  int64_t distinct_tokens = 0;
  for (const loom::protocol::WorkItem& item : work.items) {
    ASSERT_TRUE(work.prompts.contains(item.prompt_id)) << item.sample_key;
    if (methods_per_prompt[item.prompt_id]++ == 0) {
      distinct_tokens += static_cast<int64_t>(work.prompts.at(item.prompt_id).input_ids.size());
    }
  }
  for (const auto& [prompt, methods] : methods_per_prompt) EXPECT_EQ(methods, 3) << "prompt " << prompt;
  // Nor does an item carry ids of its own: its byte form is far smaller than its prompt's (over 2 KB of ids).
  for (const loom::protocol::WorkItem& item : work.items) {
    EXPECT_LT(loom::mpi::to_bytes(item).size(), 1024u) << item.sample_key;
  }
  EXPECT_EQ(work.prompts.stored_tokens(), distinct_tokens);
  EXPECT_GT(distinct_tokens, 4 * 500);  // 1K-token prompts
  EXPECT_TRUE(work.unprepared.empty());
}

TEST(WorkBuilder, ASampleWhosePromptCannotBeBuiltBecomesFailedRows) {
  const PreparedWork work = prepare(kOverlong);
  // Samples 0 and 2 are prepared under both methods; sample 1 (the over-long instruction) is not, and the job goes on.
  ASSERT_EQ(work.items.size(), 4u);
  EXPECT_EQ(work.prompts.size(), 2u);
  ASSERT_EQ(work.unprepared.size(), 2u);
  std::set<std::string> failed;
  for (const loom::protocol::WorkOutcome& outcome : work.unprepared) {
    failed.insert(outcome.sample_key);
    EXPECT_FALSE(outcome.ok);
    EXPECT_NE(outcome.error.find("the instruction alone is longer than max_input_tokens"), std::string::npos)
        << outcome.error;
    EXPECT_NE(outcome.error.find("504 input tokens (model.max_context 512 minus max_new_tokens 8)"),
              std::string::npos) << outcome.error;
    EXPECT_TRUE(work.rows.count(outcome.sample_key)) << "no row template for " << outcome.sample_key;
  }
  EXPECT_EQ(failed, (std::set<std::string>{"LEval/coursera/0/1/full", "LEval/coursera/0/1/snapkv@0.5"}));
  for (const loom::protocol::WorkItem& item : work.items) {
    EXPECT_EQ(failed.count(item.sample_key), 0u) << item.sample_key;
    EXPECT_LE(static_cast<int64_t>(work.prompts.at(item.prompt_id).input_ids.size()), 504);
  }
  EXPECT_EQ(work.total_items, 6);
  // A stored (exhausted) row is not prepared again.
  const PreparedWork resumed = prepare(kOverlong, {"LEval/coursera/0/1/full"});
  ASSERT_EQ(resumed.unprepared.size(), 1u);
  EXPECT_EQ(resumed.unprepared[0].sample_key, "LEval/coursera/0/1/snapkv@0.5");
  EXPECT_EQ(resumed.skipped_completed, 1);
}

// query_aware: false (docs/acceleration.md): the question-agnostic methods of a sweep point to a second prompt per
// sample, the context/question split, whose question_tokens marks the question; the query-aware methods keep the
// whole templated prompt. A benchmark without a separable question refuses the job, naming query_aware.
TEST(WorkBuilder, QuestionAgnosticMethodsGetTheSplitPrompt) {
  const std::string text = std::string(kSweep) + "query_aware: false\n";
  std::string sweep = text;
  sweep.replace(sweep.find("  - full\n"), 9, "  - {name: full, query_aware: true}\n");
  const PreparedWork work = prepare(sweep);
  ASSERT_EQ(work.items.size(), 12u);
  EXPECT_EQ(work.prompts.size(), 8u);  // per sample: the whole prompt and its split
  std::map<std::string, int64_t> question_tokens;
  for (const loom::protocol::WorkItem& item : work.items) {
    const loom::protocol::Prompt& prompt = work.prompts.at(item.prompt_id);
    EXPECT_EQ(item.method.query_aware, prompt.question_tokens == 0) << item.sample_key;
    if (!item.method.query_aware) {
      EXPECT_GT(prompt.question_tokens, 5) << item.sample_key;
      EXPECT_LT(prompt.question_tokens, static_cast<int64_t>(prompt.input_ids.size()) / 4) << item.sample_key;
    }
    question_tokens[item.sample_key] = prompt.question_tokens;
  }
  EXPECT_EQ(question_tokens.count("RULER/niah_single_1/1024/0/snapkv@0.5+agnostic"), 1u);
  EXPECT_EQ(question_tokens.at("RULER/niah_single_1/1024/0/full"), 0);
}

TEST(WorkBuilder, QuestionAgnosticNeedsASeparableQuestion) {
  std::string text = kOverlong;
  text += "query_aware: false\n";
  try {
    prepare(text);
    ADD_FAILURE() << "LEval has no separable question: query_aware: false must be refused";
  } catch (const loom::InputError& e) {
    EXPECT_EQ(e.key(), "query_aware");
    EXPECT_NE(std::string(e.what()).find("LEval task coursera"), std::string::npos) << e.what();
  }
}

// LongBench v2 with options.cot: the first prompt ends with the CoT cue and leaves room for 1024 new tokens; the
// chained answer prompt is rendered through the model's chat template around the first output's place, counted
// for the KV room and the cost, and both modes of a sweep carry it (the split prompt too). A max_context where the
// answer prompt cannot fit beside its 128 new tokens makes the sample's rows failed, with the reason.
TEST(WorkBuilder, ChainOfThoughtPromptsCarryTheChainedAnswerPrompt) {
  const std::string cot = R"(
name: cot
model:
  path: ../fixtures/models/llama3_tiny
  device: cpu
benchmarks:
  - name: LongBench_v2
    tasks: [longbench_v2]
    data_dir: ../fixtures/benchmarks/longbench_v2_cot
    options: {cot: true}
acceleration:
  - full
  - {name: snapkv, params: {compression_ratio: 0.5}, query_aware: false}
)";
  const PreparedWork work = prepare(cot);
  ASSERT_EQ(work.items.size(), 6u);
  ASSERT_TRUE(work.unprepared.empty());
  for (const loom::protocol::WorkItem& item : work.items) {
    const loom::protocol::Prompt& prompt = work.prompts.at(item.prompt_id);
    EXPECT_EQ(item.generation.max_new_tokens, 1024) << item.sample_key;
    ASSERT_TRUE(prompt.has_chain()) << item.sample_key;
    EXPECT_EQ(prompt.chain_max_new_tokens, 128);
    EXPECT_FALSE(prompt.chain_add_special_tokens);  // the chat template wrote the special tokens
    EXPECT_EQ(prompt.chain_before.rfind("<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nPlease read", 0),
              0u) << prompt.chain_before;
    EXPECT_NE(prompt.chain_before.find("The text is too long and omitted here."), std::string::npos);
    EXPECT_EQ(prompt.chain_before.substr(prompt.chain_before.size() - 28), "Let\xe2\x80\x99s think step by step: ");
    EXPECT_EQ(prompt.chain_after.rfind("\n\nBased on the above, what is the single, most likely answer choice?", 0),
              0u) << prompt.chain_after;
    EXPECT_EQ(prompt.chain_after.substr(prompt.chain_after.size() - 57),
              "<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n");
    EXPECT_GT(prompt.chain_tokens, 100);  // 231 and 237 with the fixture's tokenizer
    EXPECT_LT(prompt.chain_tokens, 400);
    EXPECT_EQ(item.method.query_aware, prompt.question_tokens == 0) << item.sample_key;
  }
  // The chain of thought's budget set to 8 by the job: the first prompt fits 200 tokens (middle-truncated), the
  // answer prompt (about 230 tokens) cannot fit beside its 128.
  std::string tight = cot + "generation: {max_new_tokens: 8}\n";
  tight.replace(tight.find("  device: cpu\n"), 14, "  device: cpu\n  max_context: 200\n");
  const PreparedWork failed = prepare(tight);
  EXPECT_TRUE(failed.items.empty());
  ASSERT_EQ(failed.unprepared.size(), 6u);
  EXPECT_NE(failed.unprepared[0].error.find("the chained prompt alone"), std::string::npos)
      << failed.unprepared[0].error;
}
