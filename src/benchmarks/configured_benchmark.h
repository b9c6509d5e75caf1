// Base of every built-in and custom benchmark: identity, tasks and prompting come from its BenchmarkConfig; a
// family (RULER, LongBench, ...) only implements expand(). Also the small shared steps of expand(): which tasks and
// lengths a job entry selects, a Sample pre-filled from the task's settings, and the num_samples limit.
#pragma once

#include "benchmarks/benchmark_config.h"
#include "benchmarks/registry.h"

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace loom::benchmarks {

class ConfiguredBenchmark : public Benchmark {
 public:
  explicit ConfiguredBenchmark(BenchmarkConfig config) : config_(std::move(config)) {}

  std::string name() const override { return config_.name; }
  std::string capability() const override { return config_.capability; }
  std::string kind() const override { return config_.kind; }
  std::vector<std::string> tasks() const override;
  std::vector<int32_t> build_input_ids(const Sample& sample, const PromptContext& ctx) const override;

  const BenchmarkConfig& config() const { return config_; }

 protected:
  // spec.tasks (each must exist → else InputError naming the job entry) or every task.
  std::vector<const TaskConfig*> selected_tasks(const BenchmarkSpec& spec) const;
  // spec.lengths, or the config's default lengths.
  std::vector<int64_t> selected_lengths(const BenchmarkSpec& spec) const;
  // A sample with benchmark/task/capability/metric/template flags/generation settings filled in.
  Sample new_sample(const TaskConfig& task, const BenchmarkSpec& spec, int64_t target_length, int64_t index) const;
  // spec with data_dir filled from the config's `default_data_dir` option (relative to the YAML file) when the job
  // gives none: the synthetic benchmarks find their generator inputs in the repo's data/ without any job setting.
  BenchmarkSpec with_default_data_dir(const BenchmarkSpec& spec) const;
  // How many of `available` samples to take for one (task, length).
  static size_t sample_limit(const BenchmarkSpec& spec, size_t available);
  // A value from spec.options, else the task's options, else the benchmark's options, else fallback.
  nlohmann::json option(const BenchmarkSpec& spec, const TaskConfig* task, const std::string& key,
                        const nlohmann::json& fallback) const;

 private:
  BenchmarkConfig config_;
};

// Number of input tokens the model would see for `sample` (template, chat wrapper, answer prefix), untruncated.
int64_t count_input_tokens(const Sample& sample, const PromptContext& ctx);

// Largest n in [lo, hi] for which fits(n) holds, assuming fits is true up to some n and false after; returns lo
// when even lo does not fit.
int64_t largest_fitting(int64_t lo, int64_t hi, const std::function<bool(int64_t)>& fits);

// Factories of the benchmark families (one file each), chosen by BenchmarkConfig::kind.
std::unique_ptr<Benchmark> make_ruler_benchmark(BenchmarkConfig config);
std::unique_ptr<Benchmark> make_niah_benchmark(BenchmarkConfig config);
std::unique_ptr<Benchmark> make_counting_stars_benchmark(BenchmarkConfig config);
std::unique_ptr<Benchmark> make_jsonl_benchmark(BenchmarkConfig config);
std::unique_ptr<Benchmark> make_leval_benchmark(BenchmarkConfig config);
std::unique_ptr<Benchmark> make_lciteeval_benchmark(BenchmarkConfig config);
std::unique_ptr<Benchmark> make_nthread_benchmark(BenchmarkConfig config);
std::unique_ptr<Benchmark> make_loogle_benchmark(BenchmarkConfig config);
std::unique_ptr<Benchmark> make_nolima_benchmark(BenchmarkConfig config);
std::unique_ptr<Benchmark> make_longhealth_benchmark(BenchmarkConfig config);
std::unique_ptr<Benchmark> make_longcite_benchmark(BenchmarkConfig config);
// LongBench-Cite's prompt pieces (longcite_benchmark.cpp; tests compare them with upstream's).
std::string longcite_passage(const std::string& context);
std::string longcite_prompt(const std::string& context, const std::string& query);

}  // namespace loom::benchmarks
