#include "benchmarks/sample_selection.h"

#include "benchmarks/deterministic_rng.h"

#include <map>
#include <tuple>

namespace loom::benchmarks {

int64_t samples_cap(const BenchmarkSpec& spec) {
  if (spec.num_samples < 0) return spec.limit;
  if (spec.limit < 0) return spec.num_samples;
  return std::min(spec.num_samples, spec.limit);
}

BenchmarkSpec expansion_spec(const BenchmarkSpec& spec, bool synthetic) {
  BenchmarkSpec out = spec;
  if (synthetic) {
    out.num_samples = samples_cap(spec);
  } else if (spec.shuffle || spec.limit >= 0) {
    out.num_samples = -1;
  }
  return out;
}

std::vector<Sample> select_samples(std::vector<Sample> samples, const BenchmarkSpec& spec) {
  const bool shuffle = spec.shuffle || spec.limit >= 0;
  const int64_t cap = samples_cap(spec);
  if (!shuffle && cap < 0) return samples;
  std::vector<std::tuple<std::string, int64_t>> order;
  std::map<std::tuple<std::string, int64_t>, std::vector<Sample>> groups;
  for (Sample& sample : samples) {
    const auto key = std::make_tuple(sample.task, sample.target_length);
    auto [it, inserted] = groups.try_emplace(key);
    if (inserted) order.push_back(key);
    it->second.push_back(std::move(sample));
  }
  std::vector<Sample> out;
  for (const auto& key : order) {
    std::vector<Sample>& group = groups[key];
    if (shuffle) {
      DeterministicRng rng(DeterministicRng::derive_seed(spec.seed, "shuffle/" + std::get<0>(key), std::get<1>(key), 0));
      rng.shuffle(group);
    }
    const size_t keep = cap < 0 ? group.size() : std::min(group.size(), static_cast<size_t>(cap));
    for (size_t i = 0; i < keep; ++i) out.push_back(std::move(group[i]));
  }
  return out;
}

}  // namespace loom::benchmarks
