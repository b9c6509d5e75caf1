#include "benchmarks/numpy_legacy_rng.h"

namespace loom::benchmarks {

uint64_t NumpyLegacyRng::index_below(uint64_t n) {
  const uint64_t rng = n - 1;
  if (rng == 0) return 0;
  uint64_t mask = rng;
  for (int shift = 1; shift < 64; shift <<= 1) mask |= mask >> shift;
  uint64_t value = 0;
  while ((value = (static_cast<uint64_t>(engine_()) & mask)) > rng) {
  }
  return value;
}

double NumpyLegacyRng::random_sample() {
  const uint32_t a = static_cast<uint32_t>(engine_()) >> 5;
  const uint32_t b = static_cast<uint32_t>(engine_()) >> 6;
  return (static_cast<double>(a) * 67108864.0 + static_cast<double>(b)) / 9007199254740992.0;
}

}  // namespace loom::benchmarks
