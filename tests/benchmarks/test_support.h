// Shared helpers for the benchmark tests: paths, a FNV-1a digest of samples (to compare runs byte for byte),
// and a spec builder.
#pragma once

#include "benchmarks/registry.h"

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

namespace loom::benchmarks::testing {

inline std::filesystem::path source_dir() { return LOOM_SOURCE_DIR; }
inline std::filesystem::path data_dir() { return source_dir() / "data"; }  // the repository's data/
// Large real-model tokenizers: $LOOM_TOKENIZER_FIXTURES, else the CMake value; empty when not configured (tests
// that need them skip).
inline std::filesystem::path tokenizer_fixtures_dir() {
  if (const char* env = std::getenv("LOOM_TOKENIZER_FIXTURES")) return env;
  return LOOM_TOKENIZER_FIXTURES;
}
inline std::filesystem::path configs_dir() { return source_dir() / "configs" / "benchmarks"; }
inline std::filesystem::path fixtures_dir() { return source_dir() / "tests" / "fixtures" / "benchmarks"; }

inline uint64_t digest(const std::vector<Sample>& samples) {
  uint64_t h = 0xCBF29CE484222325ULL;
  auto mix = [&h](const std::string& s) {
    for (unsigned char c : s) {
      h ^= c;
      h *= 0x100000001B3ULL;
    }
    h ^= 0xFF;
    h *= 0x100000001B3ULL;
  };
  for (const auto& s : samples) {
    mix(s.id);
    mix(s.prompt);
    mix(s.answer_prefix);
    for (const auto& r : s.references) mix(r);
    mix(s.metadata.dump());
  }
  return h;
}

inline BenchmarkSpec make_spec(const std::string& name, std::vector<std::string> tasks, std::vector<int64_t> lengths,
                               int64_t num_samples, const std::filesystem::path& data_dir, uint64_t seed = 42) {
  BenchmarkSpec spec;
  spec.name = name;
  spec.tasks = std::move(tasks);
  spec.lengths = std::move(lengths);
  spec.num_samples = num_samples;
  spec.data_dir = data_dir;
  spec.seed = seed;
  spec.source_file = "test_job.yaml";
  spec.source_line = 3;
  return spec;
}

}  // namespace loom::benchmarks::testing
