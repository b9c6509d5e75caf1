// Aggregation of per-sample scores into the LOOM-Scope levels, per method (scores are percentages, 0–100):
//   task       = mean of its metrics, each metric the mean over the task's samples (failed samples score 0)
//   benchmark  = task scores averaged with weights = task sample counts (LOOM-Scope ConstructResultTable)
//   capability = plain mean of its benchmarks;  overall = plain mean of all benchmarks (leaderboard "Avg")
// plus per-length views: each task per length column (the target length of synthetic tasks, else the length
// bucket of the context length), and per benchmark per length bucket (0–8K … >128K, LOOM-Scope thresholds
// 8000/16000/32000/64000/130000 on context_length, upper bounds inclusive) with the method's bucket score the
// mean over the benchmarks that have samples in that bucket. Next to the scores, each method's cost over the rows
// that generated (MethodCost): what the acceleration methods trade accuracy for.
// Beside them, each benchmark's official score where its scorers carry an official aggregation (scorer.h): per
// task the official rule over the task's samples in sample order, and per benchmark the plain mean of those task
// scores (the benchmarks' own "average over tasks"), present only when every task of the benchmark has one.
#pragma once

#include "metrics/scorer.h"

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace loom::metrics::report {

// One results row after scoring.
struct ScoredRow {
  std::string sample_key;
  std::string method;
  std::string benchmark;
  std::string task;
  std::string capability;
  int64_t sample_index = 0;
  int64_t target_length = 0;
  int64_t context_length = 0;
  bool failed = false;                     // generation failed, or the row could not be scored
  std::string error;                       // the reason when failed
  double score = 0;                        // 0–100: mean of metric_scores (0 when failed)
  std::map<std::string, double> metric_scores;  // 0–100 per metric named in the row
  // Cost columns of the results row (docs/results.md); generated = the engine produced an output (status ok).
  bool generated = true;
  int64_t input_tokens = 0;
  int64_t output_tokens = 0;
  double prefill_seconds = 0;
  double decode_seconds = 0;
  int64_t kv_bytes = 0;
  int64_t peak_memory_bytes = 0;
  double prefill_block_density = 1.0;
  // The official aggregation of the row's first metric (null: none).
  std::shared_ptr<const OfficialAggregation> official;
};

// A length column of the task × length table; ordered by `order` (tokens).
struct LengthColumn {
  int64_t order = 0;
  std::string label;  // "4K", "128K" for target lengths; a bucket label for natural data
  bool operator<(const LengthColumn& other) const {
    return order != other.order ? order < other.order : label < other.label;
  }
};

const std::vector<std::string>& length_bucket_labels();  // "0-8K", "8-16K", "16-32K", "32-64K", "64-128K", ">128K"
size_t length_bucket_index(int64_t context_length);
const std::string& length_bucket(int64_t context_length);
LengthColumn length_column(int64_t target_length, int64_t context_length);

struct Score {
  double score = 0;  // 0–100
  int64_t samples = 0;
  int64_t failed = 0;
};

struct TaskResult {
  std::string capability;
  Score total;
  std::map<std::string, double> metrics;  // per metric mean, 0–100
  std::map<LengthColumn, Score> lengths;
  std::optional<double> official;  // the official task score, 0–100
  std::string official_rule;
};

struct BenchmarkResult {
  std::string capability;
  Score total;
  std::map<std::string, TaskResult> tasks;
  std::map<LengthColumn, Score> lengths;  // the benchmark average per length column (sample-weighted)
  std::map<std::string, Score> buckets;   // keyed by bucket label
  std::optional<double> official;         // plain mean of the tasks' official scores (every task has one)
  std::set<std::string> official_rules;   // the rules behind them
};

struct CapabilityResult {
  double score = 0;
  std::vector<std::string> benchmarks;
};

// Cost of one method over its generated rows.
struct MethodCost {
  int64_t generated = 0;              // rows with an output
  double prefill_seconds = 0;         // mean per row
  double decode_ms_per_token = 0;     // Σ decode_seconds / Σ (output_tokens - 1), rows with >= 2 output tokens
  double kv_bytes_per_token = 0;      // Σ kv_bytes / Σ input_tokens: the KV cache held per prompt token
  double kv_vs_full = 0;              // kv_bytes_per_token / that of the method labelled "full" (0: no such method)
  int64_t peak_memory_bytes = 0;      // max over rows
  double prefill_block_density = 1;   // mean (sparse prefill; 1 for dense)
};

struct MethodResult {
  double overall = 0;  // mean of benchmark scores
  int64_t samples = 0;
  int64_t failed = 0;
  std::map<std::string, BenchmarkResult> benchmarks;
  std::map<std::string, CapabilityResult> capabilities;
  std::map<std::string, Score> buckets;  // mean over benchmarks with samples in the bucket; samples summed
  MethodCost cost;
};

struct Failure {
  std::string sample_key, method, benchmark, task, error;
};

struct Summary {
  int64_t rows = 0;
  int64_t failed = 0;
  std::map<std::string, MethodResult> methods;
  std::vector<Failure> failures;
};

Summary aggregate(const std::vector<ScoredRow>& rows);

}  // namespace loom::metrics::report
