// The draws of CPython's `random` module that Needle Threading's haystacks are made of, reproduced bit for bit:
// random.seed(n) for an integer n (init_by_array over the 32-bit words of |n|, least significant first; [0] for 0),
// MT19937's genrand_uint32, and getrandbits(k) (k / 32 rounded up draws, the first the least significant word; for
// a k that is no multiple of 32 the last draw keeps its top bits). uuid.UUID(int=random.getrandbits(128)) prints
// those 128 bits as 8-4-4-4-12 lowercase hex, with no version or variant bits set.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace loom::benchmarks {

class PythonRandom {
 public:
  // random.seed(seed) for a non-negative integer below 2^64.
  explicit PythonRandom(uint64_t seed);

  uint32_t genrand_uint32();
  // getrandbits(bits) as its 32-bit words, least significant first (bits >= 1).
  std::vector<uint32_t> getrandbits_words(int bits);
  // str(uuid.UUID(int=random.getrandbits(128))).
  std::string uuid_from_128_bits();

 private:
  std::array<uint32_t, 624> mt_{};
  int index_ = 625;
};

}  // namespace loom::benchmarks
