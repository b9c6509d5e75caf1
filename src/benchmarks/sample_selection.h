// Which samples of a benchmark entry run: num_samples (per task and length, in file order, or after a seeded
// shuffle with `shuffle: true`) and the run-wide --limit (LOOM-Scope's rule: shuffle each task's samples with the
// seed, then keep the first N). A sample keeps its index within the file (its results key), so a limited run and a
// full run of the same job share keys and one resumes the other.
#pragma once

#include "benchmarks/registry.h"
#include "benchmarks/sample.h"

#include <vector>

namespace loom::benchmarks {

// The spec to expand with: a generator makes only what will run (num_samples capped by limit); a loader returns
// every record of each (task, length) when a shuffle will choose among them.
BenchmarkSpec expansion_spec(const BenchmarkSpec& spec, bool synthetic);

// Per (task, target_length), in order of first appearance: the samples in their order, or shuffled with a
// DeterministicRng seeded from (spec.seed, task, length) when spec.shuffle or spec.limit >= 0, cut to the smaller of
// num_samples and limit (each -1 = no cap).
std::vector<Sample> select_samples(std::vector<Sample> samples, const BenchmarkSpec& spec);

// The cap select_samples applies: min of num_samples and limit, -1 when neither caps.
int64_t samples_cap(const BenchmarkSpec& spec);

}  // namespace loom::benchmarks
