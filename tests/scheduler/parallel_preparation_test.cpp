// Rank 0 prepares a job's samples on several threads (work_builder.h, common/parallel_for.h): the prompts, items,
// row templates, fingerprints, cells and unprepared rows must be byte for byte those of the serial path, for a
// job that mixes generators (RULER's needle, vt, cwe and fwe tasks; vt at 2K, since at 1K the fixture essay cannot
// hold its chains; NIAH, Counting-Stars, NThread, LongHealth, NoLiMa) and file benchmarks (BABILong, CLongEval,
// BAMBOO), and a question-agnostic method beside a query-aware one; and a job-level error is the one the serial
// path meets first.
#include "common/error.h"
#include "common/mpi/serialize.h"
#include "common/parallel_for.h"
#include "model_card/model_card.h"
#include "protocol/prompt_table.h"
#include "scheduler/coordinator.h"
#include "scheduler/job_parser.h"
#include "scheduler/work_builder.h"

#include <gtest/gtest.h>

#include <fmt/format.h>

#include <atomic>
#include <filesystem>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using namespace loom::scheduler;

namespace {

const fs::path kSource = LOOM_SOURCE_DIR;

JobConfig parse(const std::string& text) {
  return parse_job_text(text, kSource / "tests" / "scheduler" / "job.yaml", {kSource / "configs", true, {}});
}

PreparedWork prepare(const JobConfig& job, int threads) {
  const CostModel cost = load_cost_model(job, kSource / "configs", loom::model::read_model_card(job.model.path));
  RunIdentity identity = RunIdentity::of_job(job);
  return prepare_work(job, kSource / "configs" / "benchmarks", cost, {}, &identity, threads);
}

// Everything prepare_work returns, as bytes: the items with their prompts (packed in first-use order, so the
// prompt ids and their order count too), the unprepared outcomes, every row template, fingerprint and cell.
std::string bytes_of(const PreparedWork& work) {
  std::string out = loom::mpi::to_bytes(loom::protocol::pack_assignment(work.prompts, work.items));
  out += loom::mpi::to_bytes(work.unprepared);
  for (const auto& [key, row] : work.rows) {
    out += '\n' + key + '\t' + row.benchmark + '\t' + row.task + '\t' + row.capability + '\t' + row.metric + '\t' +
           row.sample_id + '\t' + std::to_string(row.sample_index) + '\t' + std::to_string(row.target_length) +
           '\t' + row.references_json + '\t' + row.metadata_json + '\t' + row.method + '\t' +
           row.method_params_json + '\t' + row.fingerprint;
  }
  for (const auto& [key, fingerprint] : work.fingerprints) out += '\n' + key + '=' + fingerprint;
  for (const CellSummary& cell : work.cells) {
    out += fmt::format("\n{}/{}/{}: {} {} {} {}", cell.benchmark, cell.task, cell.target_length, cell.samples,
                       cell.input_tokens, cell.truncated, cell.predicted_seconds);
  }
  out += fmt::format("\n{} {} {}", work.total_items, work.skipped_completed, work.max_context);
  return out;
}

const char* kMixed = R"(
name: mixed
model:
  path: ../fixtures/models/llama3_tiny
  device: cpu
  max_context: 4096
benchmarks:
  - name: RULER
    tasks: [niah_single_1, niah_single_2, niah_single_3, niah_multikey_1, niah_multikey_2, niah_multikey_3,
            niah_multivalue, niah_multiquery, cwe, fwe]
    lengths: [1K, 2K]
    num_samples: 2
    data_dir: ../fixtures/benchmarks/ruler
  - name: RULER
    tasks: [vt]
    lengths: [2K]
    num_samples: 2
    data_dir: ../fixtures/benchmarks/ruler
  - name: NIAH
    lengths: [1K, 2K]
    num_samples: 3
    data_dir: ../fixtures/benchmarks/ruler
  - name: Counting_Stars
    lengths: [4000]
    num_samples: 2
  - name: NThread
    lengths: [2048]
    num_samples: 1
  - name: LongHealth
    lengths: [1500]
    num_samples: 2
    data_dir: ../fixtures/benchmarks/longhealth
  - name: NoLiMa
    data_dir: ../fixtures/benchmarks/nolima
    tasks: [needle_set]
    lengths: [250]
    num_samples: 4
  - name: babilong
    tasks: [qa1]
    lengths: [4096]
    data_dir: ../fixtures/benchmarks/babilong
  - name: CLongEval
    data_dir: ../fixtures/benchmarks/clongeval
    tasks: [LStQA_S, KpRet_S, KpRet_M]
  - name: BAMBOO
    lengths: [4096]
    data_dir: ../fixtures/benchmarks/bamboo
acceleration:
  - full
  - {name: snapkv, params: {compression_ratio: 0.5}}
generation:
  max_new_tokens: 16
)";

// RULER only (every task has a separable question): a query-aware and a question-agnostic method.
const char* kAgnostic = R"(
name: agnostic
model:
  path: ../fixtures/models/llama3_tiny
  device: cpu
benchmarks:
  - name: RULER
    tasks: [niah_single_1, niah_multikey_3, niah_multiquery, vt, cwe, fwe]
    lengths: [2K]
    num_samples: 2
    data_dir: ../fixtures/benchmarks/ruler
acceleration:
  - full
  - {name: snapkv, params: {compression_ratio: 0.5}, query_aware: false}
generation:
  max_new_tokens: 16
)";

}  // namespace

TEST(ParallelFor, EveryIndexRunsOnceAndTheLowestFailureIsRethrown) {
  std::vector<std::atomic<int>> runs(1000);
  loom::parallel_for(runs.size(), 4, [&](size_t i) { ++runs[i]; });
  for (size_t i = 0; i < runs.size(); ++i) ASSERT_EQ(runs[i].load(), 1) << i;
  for (int threads : {1, 4}) {
    try {
      loom::parallel_for(100, threads, [](size_t i) {
        if (i == 37 || i == 80) throw std::runtime_error("item " + std::to_string(i));
      });
      ADD_FAILURE() << "no exception with " << threads << " threads";
    } catch (const std::runtime_error& e) {
      EXPECT_EQ(std::string(e.what()), "item 37") << threads << " threads";
    }
  }
  loom::parallel_for(0, 4, [](size_t) { ADD_FAILURE() << "no items, no calls"; });
  EXPECT_GE(loom::hardware_threads(), 1);
}

TEST(ParallelPreparation, AMixedJobIsByteIdenticalOnOneAndSeveralThreads) {
  const JobConfig job = parse(kMixed);
  const PreparedWork serial = prepare(job, 1);
  // Every benchmark contributed samples, and some prompts were cut to max_context (truncation runs in parallel too).
  std::set<std::string> benchmarks;
  int64_t truncated = 0;
  for (const CellSummary& cell : serial.cells) {
    benchmarks.insert(cell.benchmark);
    truncated += cell.truncated;
  }
  EXPECT_EQ(benchmarks.size(), 9u);
  EXPECT_GT(truncated, 0);
  EXPECT_GT(serial.items.size(), 100u);
  const std::string expected = bytes_of(serial);
  for (int threads : {2, 5}) EXPECT_EQ(bytes_of(prepare(job, threads)), expected) << threads << " threads";
}

TEST(ParallelPreparation, QuestionAgnosticSplitsAreByteIdenticalOnSeveralThreads) {
  const JobConfig job = parse(kAgnostic);
  const PreparedWork serial = prepare(job, 1);
  EXPECT_EQ(serial.prompts.size(), serial.items.size());  // per sample: the whole prompt and its split
  EXPECT_EQ(bytes_of(prepare(job, 4)), bytes_of(serial));
}

// The serial path stops at the first sample of LEval whose question cannot be separated; the threads meet the same.
TEST(ParallelPreparation, TheFirstJobLevelErrorIsTheSerialOne) {
  const std::string text = R"(
name: refused
model:
  path: ../fixtures/models/llama3_tiny
  device: cpu
  max_context: 512
benchmarks:
  - name: LEval
    tasks: [coursera]
    data_dir: ../fixtures/benchmarks/leval_overlong
acceleration:
  - {name: snapkv, params: {compression_ratio: 0.5}, query_aware: false}
generation:
  max_new_tokens: 8
)";
  const JobConfig job = parse(text);
  std::string messages[2];
  for (int k = 0; k < 2; ++k) {
    try {
      prepare(job, k == 0 ? 1 : 4);
      ADD_FAILURE() << "query_aware: false on LEval must be refused";
    } catch (const loom::InputError& e) {
      EXPECT_EQ(e.key(), "query_aware");
      messages[k] = e.what();
    }
  }
  EXPECT_EQ(messages[0], messages[1]);
}
