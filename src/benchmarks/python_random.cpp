// CPython's Modules/_randommodule.c seeding and MT19937 (Matsumoto & Nishimura's mt19937ar reference), written
// out here because std::mt19937 has no init_by_array seeding.
#include "benchmarks/python_random.h"

#include "common/error.h"

#include <fmt/format.h>

namespace loom::benchmarks {
namespace {

constexpr int kN = 624;
constexpr int kM = 397;
constexpr uint32_t kMatrixA = 0x9908b0dfU, kUpper = 0x80000000U, kLower = 0x7fffffffU;

}  // namespace

PythonRandom::PythonRandom(uint64_t seed) {
  std::vector<uint32_t> key;
  for (uint64_t n = seed; n != 0; n >>= 32) key.push_back(static_cast<uint32_t>(n & 0xffffffffU));
  if (key.empty()) key.push_back(0);
  // init_genrand(19650218)
  mt_[0] = 19650218U;
  for (int i = 1; i < kN; ++i) mt_[i] = 1812433253U * (mt_[i - 1] ^ (mt_[i - 1] >> 30)) + static_cast<uint32_t>(i);
  // init_by_array(key)
  const auto length = static_cast<int>(key.size());
  int i = 1, j = 0;
  for (int k = kN > length ? kN : length; k > 0; --k) {
    mt_[i] = (mt_[i] ^ ((mt_[i - 1] ^ (mt_[i - 1] >> 30)) * 1664525U)) + key[static_cast<size_t>(j)] +
             static_cast<uint32_t>(j);
    ++i;
    ++j;
    if (i >= kN) {
      mt_[0] = mt_[kN - 1];
      i = 1;
    }
    if (j >= length) j = 0;
  }
  for (int k = kN - 1; k > 0; --k) {
    mt_[i] = (mt_[i] ^ ((mt_[i - 1] ^ (mt_[i - 1] >> 30)) * 1566083941U)) - static_cast<uint32_t>(i);
    ++i;
    if (i >= kN) {
      mt_[0] = mt_[kN - 1];
      i = 1;
    }
  }
  mt_[0] = 0x80000000U;
  index_ = kN;
}

uint32_t PythonRandom::genrand_uint32() {
  if (index_ >= kN) {
    for (int k = 0; k < kN; ++k) {
      const uint32_t y = (mt_[k] & kUpper) | (mt_[(k + 1) % kN] & kLower);
      mt_[k] = mt_[(k + kM) % kN] ^ (y >> 1) ^ ((y & 1U) ? kMatrixA : 0U);
    }
    index_ = 0;
  }
  uint32_t y = mt_[index_++];
  y ^= y >> 11;
  y ^= (y << 7) & 0x9d2c5680U;
  y ^= (y << 15) & 0xefc60000U;
  y ^= y >> 18;
  return y;
}

std::vector<uint32_t> PythonRandom::getrandbits_words(int bits) {
  LOOM_CHECK(bits >= 1, "getrandbits needs at least one bit, got {}", bits);
  std::vector<uint32_t> words;
  for (int left = bits; left > 0; left -= 32) {
    uint32_t r = genrand_uint32();
    if (left < 32) r >>= (32 - left);
    words.push_back(r);
  }
  return words;
}

std::string PythonRandom::uuid_from_128_bits() {
  const std::vector<uint32_t> w = getrandbits_words(128);
  const std::string hex = fmt::format("{:08x}{:08x}{:08x}{:08x}", w[3], w[2], w[1], w[0]);
  return fmt::format("{}-{}-{}-{}-{}", hex.substr(0, 8), hex.substr(8, 4), hex.substr(12, 4), hex.substr(16, 4),
                     hex.substr(20, 12));
}

}  // namespace loom::benchmarks
