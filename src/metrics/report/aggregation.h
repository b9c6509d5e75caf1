// Aggregation of per-sample scores into the LOOM-Scope levels, per method (scores are percentages, 0–100):
//   task       = mean of its metrics, each metric the mean over the task's samples (failed samples score 0)
//   benchmark  = task scores averaged with weights = task sample counts (LOOM-Scope ConstructResultTable)
//   capability = plain mean of its benchmarks;  overall = plain mean of all benchmarks (leaderboard "Avg")
// plus per-length views: each task per length column (the target length of synthetic tasks, else the length
// bucket of the context length), and per benchmark per length bucket (0–8K … >128K, LOOM-Scope thresholds
// 8000/16000/32000/64000/130000 on context_length, upper bounds inclusive) with the method's bucket score the
// mean over the benchmarks that have samples in that bucket.
#pragma once

#include <cstdint>
#include <map>
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
  int64_t target_length = 0;
  int64_t context_length = 0;
  bool failed = false;                     // generation failed, or the row could not be scored
  std::string error;                       // the reason when failed
  double score = 0;                        // 0–100: mean of metric_scores (0 when failed)
  std::map<std::string, double> metric_scores;  // 0–100 per metric named in the row
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
};

struct BenchmarkResult {
  std::string capability;
  Score total;
  std::map<std::string, TaskResult> tasks;
  std::map<LengthColumn, Score> lengths;  // the benchmark average per length column (sample-weighted)
  std::map<std::string, Score> buckets;   // keyed by bucket label
};

struct CapabilityResult {
  double score = 0;
  std::vector<std::string> benchmarks;
};

struct MethodResult {
  double overall = 0;  // mean of benchmark scores
  int64_t samples = 0;
  int64_t failed = 0;
  std::map<std::string, BenchmarkResult> benchmarks;
  std::map<std::string, CapabilityResult> capabilities;
  std::map<std::string, Score> buckets;  // mean over benchmarks with samples in the bucket; samples summed
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
