// Seeded, platform-independent random numbers for the synthetic generators. std::mt19937_64 is specified bit-exactly
// by the C++ standard, but std::*_distribution is not, so every draw here is built from raw 64-bit outputs with our
// own (documented) arithmetic: same seed → same numbers on every compiler and libc++/libstdc++.
#pragma once

#include <cstdint>
#include <random>
#include <string_view>
#include <utility>
#include <vector>

namespace loom::benchmarks {

class DeterministicRng {
 public:
  explicit DeterministicRng(uint64_t seed) : engine_(seed) {}

  // A seed for one (task, length, index) sample: FNV-1a over the label mixed with SplitMix64, so samples do not
  // depend on how many others were generated before them.
  static uint64_t derive_seed(uint64_t base_seed, std::string_view label, int64_t length, int64_t index);

  uint64_t next_u64() { return engine_(); }
  // Uniform integer in [0, n) by rejection sampling (n > 0).
  uint64_t below(uint64_t n);
  // Uniform integer in [lo, hi], inclusive.
  int64_t uniform_int(int64_t lo, int64_t hi);
  // Uniform double in [0, 1) with 53 random bits.
  double uniform01();
  // k distinct indices of [0, n), in random order (partial Fisher–Yates).
  std::vector<size_t> sample_indices(size_t n, size_t k);

  template <class T>
  void shuffle(std::vector<T>& items) {
    for (size_t i = items.size(); i > 1; --i) {
      size_t j = static_cast<size_t>(below(i));
      std::swap(items[i - 1], items[j]);
    }
  }
  template <class T>
  const T& choice(const std::vector<T>& items) {
    return items[static_cast<size_t>(below(items.size()))];
  }

 private:
  std::mt19937_64 engine_;
};

}  // namespace loom::benchmarks
