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

#include "common/sample_cost.h"
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
  std::optional<double> depth_percent;     // the needle depth of NIAH-style rows (metadata "depth_percent")
  std::string method_params_json;          // the method's parameters (its compression_ratio for sweeps)
  bool failed = false;                     // generation failed, or the row could not be scored
  std::string error;                       // the reason when failed
  double score = 0;                        // 0–100: mean of metric_scores (0 when failed)
  std::map<std::string, double> metric_scores;  // 0–100 per metric named in the row
  // The results row's cost record (common/sample_cost.h); generated = the engine produced an output (status ok).
  bool generated = true;
  SampleCost cost;
  // The official aggregation of the row's first metric (null: none).
  std::shared_ptr<const OfficialAggregation> official;
  // Judged metrics (docs/judge.md) that apply to the row: their scores (0–100) where a verdict gives one, else why
  // not. A judged metric with a combine_with metric is also in metric_scores (and so in `score`).
  std::map<std::string, double> judged;
  std::map<std::string, std::string> not_computed;
  // Per computed judged metric with group_by fields: field → the row's metadata value (JudgedMetric::group_by).
  std::map<std::string, std::map<std::string, std::string>> judged_groups;
  // Per judged metric with an instance_field the row's metadata has: that value (computed or not).
  std::map<std::string, std::string> judged_instance;
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

// A judged metric over a task's rows: the mean over the rows it was computed for, and why the others were not.
struct JudgedResult {
  double score = 0;  // 0–100; meaningless when computed == 0
  int64_t computed = 0;
  int64_t not_computed = 0;
  std::map<std::string, int64_t> reasons;  // reason → rows
  // The same mean per value of each group_by field (e.g. safety_type → Bias → mean), over the computed rows.
  struct Group {
    double score = 0;
    int64_t computed = 0;
  };
  std::map<std::string, std::map<std::string, Group>> groups;
};

struct TaskResult {
  std::string capability;
  std::map<std::string, JudgedResult> judged;
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
  // Rows with a needle depth (NIAH): the plain mean per (length column, depth percent) over all its tasks.
  std::map<std::pair<LengthColumn, double>, Score> depths;
  std::optional<double> official;         // plain mean of the tasks' official scores (every task has one)
  std::set<std::string> official_rules;   // the rules behind them
  // Judged metrics with an instance_field: the mean over instances whose rows all have a value of the minimum over
  // its rows (LongSafety's safety_rate); `incomplete`: instances with a row not computed (left out).
  struct JudgedInstances {
    double score = 0;  // meaningless when instances == 0
    int64_t instances = 0;
    int64_t incomplete = 0;
  };
  std::map<std::string, JudgedInstances> judged_instances;
};

struct CapabilityResult {
  double score = 0;
  std::vector<std::string> benchmarks;
};

// One per-method cost figure of the report, made from a column of cost_columns() (common/sample_cost.h): the
// column's figure, or its ratio to the method labelled "full". Today: prefill_seconds (mean), decode_ms_per_token
// (Σ decode_seconds / Σ (output_tokens - 1) × 1000), kv_bytes_per_token (Σ kv_bytes / Σ input_tokens), kv_vs_full,
// peak_memory_bytes (max), prefill_block_density (mean), prefill_shared_by (mean).
struct MethodCostFigure {
  std::string name;   // JSON key and /metrics/method_costs column
  std::string label;  // text table row
  bool integer = false;
  double display_divisor = 1;
  int precision = 3;
  size_t column = 0;     // index in cost_columns()
  bool vs_full = false;  // the column's figure over that of "full" (0 when there is no "full")
};
const std::vector<MethodCostFigure>& method_cost_figures();

// Cost of one method over its generated rows.
struct MethodCost {
  int64_t generated = 0;       // rows with an output
  std::vector<double> values;  // one per method_cost_figures() (all 0 when nothing generated)
  // The figure of that name; throws loom::Error for a name that is not a figure.
  double figure(const std::string& name) const;
};

struct MethodResult {
  std::string params_json;  // the method's parameters (its first row's method_params_json)
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
