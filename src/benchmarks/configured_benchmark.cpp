#include "benchmarks/configured_benchmark.h"

#include "common/error.h"
#include "benchmarks/prompt_builder.h"
#include "benchmarks/text_util.h"

#include <fmt/format.h>

namespace loom::benchmarks {

std::vector<std::string> ConfiguredBenchmark::tasks() const {
  std::vector<std::string> names;
  for (const auto& t : config_.tasks) names.push_back(t.name);
  return names;
}

std::vector<int32_t> ConfiguredBenchmark::build_input_ids(const Sample& sample, const PromptContext& ctx) const {
  return build_ids(sample, ctx, config_.truncation);
}

std::vector<const TaskConfig*> ConfiguredBenchmark::selected_tasks(const BenchmarkSpec& spec) const {
  std::vector<const TaskConfig*> out;
  if (spec.tasks.empty()) {
    for (const auto& t : config_.tasks) out.push_back(&t);
    return out;
  }
  for (const auto& name : spec.tasks) {
    const TaskConfig* t = config_.find_task(name);
    if (t == nullptr)
      throw InputError(spec.source_file.empty() ? spec.name : spec.source_file, spec.source_line,
                       "benchmarks[].tasks",
                       fmt::format("a task of {} (one of: {}); got `{}`", config_.name, join(tasks(), ", "), name));
    out.push_back(t);
  }
  return out;
}

std::vector<int64_t> ConfiguredBenchmark::selected_lengths(const BenchmarkSpec& spec) const {
  return spec.lengths.empty() ? config_.lengths : spec.lengths;
}

Sample ConfiguredBenchmark::new_sample(const TaskConfig& task, const BenchmarkSpec& spec, int64_t target_length,
                                       int64_t index) const {
  Sample s;
  s.benchmark = config_.name;
  s.task = task.name;
  s.capability = config_.capability;
  s.metric = task.metric;
  s.target_length = target_length;
  s.index = index;
  s.system_prompt = task.system_prompt;
  s.use_chat_template = task.use_chat_template;
  s.generation = task.generation;
  s.generation.seed = spec.seed;
  return s;
}

BenchmarkSpec ConfiguredBenchmark::with_default_data_dir(const BenchmarkSpec& spec) const {
  BenchmarkSpec out = spec;
  if (out.data_dir.empty() && config_.options.contains("default_data_dir") &&
      config_.options["default_data_dir"].is_string()) {
    std::filesystem::path dir = config_.options["default_data_dir"].get<std::string>();
    if (dir.is_relative()) dir = config_.file.parent_path() / dir;
    out.data_dir = dir.lexically_normal();
  }
  return out;
}

size_t ConfiguredBenchmark::sample_limit(const BenchmarkSpec& spec, size_t available) {
  if (spec.num_samples < 0) return available;
  return std::min(available, static_cast<size_t>(spec.num_samples));
}

nlohmann::json ConfiguredBenchmark::option(const BenchmarkSpec& spec, const TaskConfig* task, const std::string& key,
                                           const nlohmann::json& fallback) const {
  if (spec.options.is_object() && spec.options.contains(key)) return spec.options[key];
  if (task != nullptr && task->options.contains(key)) return task->options[key];
  if (config_.options.contains(key)) return config_.options[key];
  return fallback;
}

int64_t count_input_tokens(const Sample& sample, const PromptContext& ctx) {
  return static_cast<int64_t>(encode_input(sample, sample.prompt, ctx).size());
}

int64_t largest_fitting(int64_t lo, int64_t hi, const std::function<bool(int64_t)>& fits) {
  int64_t best = lo;
  while (lo <= hi) {
    const int64_t mid = lo + (hi - lo) / 2;
    if (fits(mid)) {
      best = mid;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return best;
}

}  // namespace loom::benchmarks
