// The draws NoLiMa's generator makes from NumPy's legacy global RandomState (np.random.seed(s), then
// np.random.choice(list) and np.random.uniform(low, high)), reproduced bit for bit: the legacy seeding is MT19937's
// init_genrand(s) (= std::mt19937(s)); choice(list of n) is randint(0, n): 32-bit draws masked to the smallest
// all-ones value >= n - 1 and rejected while > n - 1 (no draw when n == 1); uniform is low + (high - low) · d with
// d = ((a >> 5) · 2^26 + (b >> 6)) / 2^53 from two 32-bit draws.
#pragma once

#include <cstdint>
#include <random>

namespace loom::benchmarks {

class NumpyLegacyRng {
 public:
  // np.random.seed(seed); seed must be in [0, 2^32).
  explicit NumpyLegacyRng(uint32_t seed) : engine_(seed) {}

  // np.random.randint(0, n) for n >= 1 (the index np.random.choice draws).
  uint64_t index_below(uint64_t n);
  // np.random.random_sample() / np.random.uniform(low, high).
  double random_sample();
  double uniform(double low, double high) { return low + (high - low) * random_sample(); }

 private:
  std::mt19937 engine_;
};

}  // namespace loom::benchmarks
