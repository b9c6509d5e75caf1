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
