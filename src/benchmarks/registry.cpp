// BenchmarkRegistry: every configs/benchmarks/*.yaml becomes a built-in benchmark (its `kind` picks the C++ family);
// get() also accepts the path of a custom benchmark YAML (same schema, usually kind: jsonl), loaded on first use.
#include "benchmarks/registry.h"

#include "common/did_you_mean.h"
#include "common/error.h"
#include "benchmarks/benchmark_config.h"
#include "benchmarks/configured_benchmark.h"
#include "benchmarks/text_util.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <functional>
#include <map>
#include <mutex>

namespace loom::benchmarks {
namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

using Factory = std::function<std::unique_ptr<Benchmark>(BenchmarkConfig)>;

const std::map<std::string, Factory>& factories() {
  static const std::map<std::string, Factory> f = {
      {"ruler", make_ruler_benchmark},
      {"niah", make_niah_benchmark},
      {"jsonl", make_jsonl_benchmark},
      {"counting_stars", make_counting_stars_benchmark},
      {"leval", make_leval_benchmark},
      {"lciteeval", make_lciteeval_benchmark},
      {"nthread", make_nthread_benchmark},
      {"loogle", make_loogle_benchmark},
      {"nolima", make_nolima_benchmark},
      {"longhealth", make_longhealth_benchmark},
      {"longcite", make_longcite_benchmark},
  };
  return f;
}

std::unique_ptr<Benchmark> make_benchmark(BenchmarkConfig config) {
  auto it = factories().find(config.kind);
  if (it == factories().end()) {
    std::vector<std::string> kinds;
    for (const auto& kv : factories()) kinds.push_back(kv.first);
    throw InputError(config.file.string(), 0, "kind", "one of: " + join(kinds, ", "));
  }
  return it->second(std::move(config));
}

}  // namespace

struct BenchmarkRegistry::Impl {
  std::map<std::string, std::unique_ptr<Benchmark>> builtin;  // key: lowercase name
  mutable std::map<std::string, std::unique_ptr<Benchmark>> custom;  // key: canonical path
  mutable std::mutex mutex;
};

BenchmarkRegistry::BenchmarkRegistry(std::filesystem::path configs_dir) : impl_(std::make_unique<Impl>()) {
  if (!std::filesystem::is_directory(configs_dir))
    throw InputError(configs_dir.string(), 0, "", "the configs/benchmarks directory of the loom_mpi checkout");
  for (const auto& file : list_files(configs_dir, ".yaml")) {
    BenchmarkConfig config = load_benchmark_config(file);
    const std::string key = lower(config.name);
    if (impl_->builtin.count(key))
      throw InputError(file.string(), 0, "name", fmt::format("a unique benchmark name; `{}` is defined twice", config.name));
    impl_->builtin.emplace(key, make_benchmark(std::move(config)));
  }
}

BenchmarkRegistry::~BenchmarkRegistry() = default;
BenchmarkRegistry::BenchmarkRegistry(BenchmarkRegistry&&) noexcept = default;
BenchmarkRegistry& BenchmarkRegistry::operator=(BenchmarkRegistry&&) noexcept = default;

const Benchmark& BenchmarkRegistry::get(const std::string& name) const {
  auto it = impl_->builtin.find(lower(name));
  if (it != impl_->builtin.end()) return *it->second;
  const std::filesystem::path path(name);
  const std::string ext = lower(path.extension().string());
  if ((ext == ".yaml" || ext == ".yml") && std::filesystem::is_regular_file(path)) {
    const std::string key = std::filesystem::weakly_canonical(path).string();
    std::lock_guard<std::mutex> lock(impl_->mutex);
    auto c = impl_->custom.find(key);
    if (c != impl_->custom.end()) return *c->second;
    return *impl_->custom.emplace(key, make_benchmark(load_benchmark_config(path))).first->second;
  }
  throw InputError(name, 0, "benchmarks[].name",
                   fmt::format("a registered benchmark ({}) or the path of a custom benchmark YAML file{}",
                               join(names(), ", "), did_you_mean(name, names())));
}

std::vector<std::string> BenchmarkRegistry::names() const {
  std::vector<std::string> out;
  for (const auto& kv : impl_->builtin) out.push_back(kv.second->name());
  return out;
}

}  // namespace loom::benchmarks
