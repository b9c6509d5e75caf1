// CaM (cache merging) as LOOM-Scope runs it at the end of prefill (CAM_util.py, CAMKVCluster.update_kv): before
// eviction, walking the prompt in order, each token j in [start_budget, T - w) has its value merged, with
// Bernoulli probability clamp(attn[j] / max(attn of the first start_budget and last w tokens), 0, 1), into the
// next w tokens' values (v[j+1 .. j+w] += v[j] / w; merges cascade since later tokens carry earlier merges).
// attn is the window queries' mean attention (GQA mean here; LOOM-Scope works on repeated heads).
// The Bernoulli draws come from a SplitMix64 stream seeded by `seed`, drawn token-major then head-minor, so that
// tools/fixtures/make_accel_fixtures.py reproduces them exactly.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>

namespace loom::accel {

// values [num_kv_heads, T, head_dim]; attn_score [num_kv_heads, T]. Returns the merged values (same dtype/device).
at::Tensor cam_merge_values(const at::Tensor& values, const at::Tensor& attn_score, int64_t window,
                            int64_t start_budget, uint64_t seed);

// SplitMix64 uniform draws in [0, 1) (53-bit), shared with the fixture generator.
class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}
  uint64_t next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  double uniform() { return static_cast<double>(next() >> 11) * (1.0 / 9007199254740992.0); }

 private:
  uint64_t state_;
};

}  // namespace loom::accel
