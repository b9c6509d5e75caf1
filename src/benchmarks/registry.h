// Benchmark registry contract: a benchmark = tasks + data loader or generator + prompt template + generation
// settings + scorer name + capability. The scheduler (rank 0) asks the registry to expand each job entry into
// samples, then to turn each sample into model input ids with the official truncation rule.
// Built-in benchmarks are registered from configs/benchmarks/*.yaml plus C++ loaders/generators; a user adds a
// custom benchmark with a YAML file (jsonl path, field names, template, metric) and no C++.
#pragma once

#include "benchmarks/sample.h"
#include "text/chat_template.h"
#include "text/tokenizer.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace loom::benchmarks {

// One `benchmarks:` entry of a job file, already type-checked by the job parser.
struct BenchmarkSpec {
  std::string name;                  // registry name ("RULER", "NIAH", "LongBench", ...) or path of a custom YAML
  std::vector<std::string> tasks;    // empty: all tasks of the benchmark
  std::vector<int64_t> lengths;      // target context lengths (synthetic) or length filters (LVEval, LIBRA, BABILong)
  int64_t num_samples = -1;          // per (task, length); -1: all
  bool shuffle = false;              // take num_samples after a seeded shuffle (seed) instead of in file order
  int64_t limit = -1;                // run-wide cap per (task, length) after a seeded shuffle (--limit); -1: none
  std::filesystem::path data_dir;    // where native data files live
  uint64_t seed = 42;
  nlohmann::json options = nlohmann::json::object();  // benchmark-specific keys (documented per benchmark)
  bool retrieval = false;            // the job has `rag:`: fill Sample::retrieval (set by the scheduler)
  std::string source_file;           // job file, for error messages
  int source_line = 0;               // line of this entry in the job file
};

// What the tokenization step needs to know about the model.
struct PromptContext {
  const text::Tokenizer* tokenizer = nullptr;
  const text::ChatTemplate* chat_template = nullptr;
  int64_t max_input_tokens = 0;      // truncation threshold (model max context minus max_new_tokens, or the job's)
  int threads = 1;                   // threads a generator may draw independent cells on (common/parallel_for.h)
};

class Benchmark {
 public:
  virtual ~Benchmark() = default;
  virtual std::string name() const = 0;
  virtual std::string capability() const = 0;
  virtual std::vector<std::string> tasks() const = 0;
  // The family that loads it (ruler, niah, jsonl, ...): its `options` keys are benchmark_options.h's option_keys.
  virtual std::string kind() const = 0;
  // True for generators (RULER, NIAH, Counting_Stars): their samples are made, not read, so num_samples and --limit
  // cap how many are made instead of choosing among records.
  virtual bool synthetic() const { return false; }
  // Loads or generates the samples. Generators may use ctx.tokenizer to hit target lengths in model tokens, and
  // ctx.threads threads for parts that are pure functions of (seed, task, length, index); the samples and their
  // order must not depend on ctx.threads. build_input_ids may be called for several samples at once (const, no
  // shared mutable state; the tokenizer is thread-safe).
  // Missing data file → InputError naming the expected file, where it is published and the `data_dir` key.
  virtual std::vector<Sample> expand(const BenchmarkSpec& spec, const PromptContext& ctx) const = 0;
  // Official prompt → chat template (or raw) → token ids, with the benchmark's truncation rule.
  virtual std::vector<int32_t> build_input_ids(const Sample& sample, const PromptContext& ctx) const = 0;
};

class BenchmarkRegistry {
 public:
  // configs_dir: the repo's configs/benchmarks (built-ins are described there).
  explicit BenchmarkRegistry(std::filesystem::path configs_dir);
  ~BenchmarkRegistry();
  BenchmarkRegistry(BenchmarkRegistry&&) noexcept;
  BenchmarkRegistry& operator=(BenchmarkRegistry&&) noexcept;

  // name: a registered name (case-insensitive) or a path to a custom benchmark YAML.
  const Benchmark& get(const std::string& name) const;
  std::vector<std::string> names() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace loom::benchmarks
