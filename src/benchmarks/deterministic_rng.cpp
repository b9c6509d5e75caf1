#include "benchmarks/deterministic_rng.h"

#include "common/error.h"

namespace loom::benchmarks {
namespace {

uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

}  // namespace

uint64_t DeterministicRng::derive_seed(uint64_t base_seed, std::string_view label, int64_t length, int64_t index) {
  uint64_t h = 0xCBF29CE484222325ULL;
  for (unsigned char c : label) {
    h ^= c;
    h *= 0x100000001B3ULL;
  }
  uint64_t x = splitmix64(base_seed ^ h);
  x = splitmix64(x ^ static_cast<uint64_t>(length));
  return splitmix64(x ^ static_cast<uint64_t>(index));
}

uint64_t DeterministicRng::below(uint64_t n) {
  LOOM_CHECK(n > 0, "below(0) has no valid result");
  // Largest multiple of n that fits in 2^64; draws at or above it are rejected to avoid modulo bias.
  const uint64_t limit = UINT64_MAX - (UINT64_MAX % n);
  uint64_t x = engine_();
  while (x >= limit) x = engine_();
  return x % n;
}

int64_t DeterministicRng::uniform_int(int64_t lo, int64_t hi) {
  LOOM_CHECK(lo <= hi, "empty range [{}, {}]", lo, hi);
  const uint64_t span = static_cast<uint64_t>(hi) - static_cast<uint64_t>(lo);
  if (span == UINT64_MAX) return static_cast<int64_t>(engine_());
  return lo + static_cast<int64_t>(below(span + 1));
}

double DeterministicRng::uniform01() {
  return static_cast<double>(engine_() >> 11) * (1.0 / 9007199254740992.0);
}

std::vector<size_t> DeterministicRng::sample_indices(size_t n, size_t k) {
  LOOM_CHECK(k <= n, "cannot draw {} distinct items from {}", k, n);
  std::vector<size_t> pool(n);
  for (size_t i = 0; i < n; ++i) pool[i] = i;
  for (size_t i = 0; i < k; ++i) {
    size_t j = i + static_cast<size_t>(below(n - i));
    std::swap(pool[i], pool[j]);
  }
  pool.resize(k);
  return pool;
}

}  // namespace loom::benchmarks
