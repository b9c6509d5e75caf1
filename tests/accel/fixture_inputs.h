// Test helpers for the acceleration fixtures: the SplitMix64 input stream shared with
// tools/fixtures/make_accel_fixtures.py (bit-identical float32 inputs), fixture loading, and a policy harness that
// plays the engine's part (dense prompt cache, window queries, finish_prefill).
#pragma once

#include "rank/accel/cam_merge.h"
#include "rank/accel/registry.h"
#include "rank/model/attention_policy.h"
#include "rank/model/kv_cache.h"

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

namespace loom::accel::testing {

// (k / 2^23 - 1) * scale with k the top 24 bits of each SplitMix64 draw, row-major.
inline at::Tensor random_tensor(uint64_t seed, std::vector<int64_t> shape, float scale) {
  SplitMix64 rng(seed);
  int64_t n = 1;
  for (int64_t s : shape) n *= s;
  at::Tensor t = at::empty({n}, at::kFloat);
  float* p = t.data_ptr<float>();
  for (int64_t i = 0; i < n; ++i) p[i] = (static_cast<float>(rng.next() >> 40) / 8388608.0f - 1.0f) * scale;
  return t.reshape(shape);
}

struct Inputs {
  at::Tensor keys;     // [kv, T, d]
  at::Tensor values;   // [kv, T, d]
  at::Tensor queries;  // [H, T, d]
};

inline Inputs make_inputs(uint64_t seed, int64_t heads, int64_t kv_heads, int64_t total, int64_t dim) {
  return {random_tensor(seed * 3 + 1, {kv_heads, total, dim}, 2.0f), random_tensor(seed * 3 + 2, {kv_heads, total, dim}, 1.0f),
          random_tensor(seed * 3 + 3, {heads, total, dim}, 2.0f)};
}

inline nlohmann::json load_fixture(const std::string& name) {
  std::ifstream in(std::string(LOOM_SOURCE_DIR) + "/tests/fixtures/accel/" + name);
  return nlohmann::json::parse(in);
}

inline model::PolicyContext make_context(int64_t heads, int64_t kv_heads, int64_t dim, int64_t layers) {
  model::PolicyContext context;
  context.shape.num_layers = layers;
  context.shape.num_heads = heads;
  context.shape.num_kv_heads = kv_heads;
  context.shape.head_dim = dim;
  context.shape.hidden_size = heads * dim;
  return context;
}

inline std::unique_ptr<model::LayerKVCache> dense_cache(const at::Tensor& keys, const at::Tensor& values) {
  auto cache = model::make_dense_cache(keys.size(0), keys.size(2), keys.scalar_type(), keys.device());
  cache->append(keys, values);
  return cache;
}

inline std::vector<std::vector<int64_t>> to_lists(const std::vector<at::Tensor>& rows) {
  std::vector<std::vector<int64_t>> out;
  for (const at::Tensor& r : rows) {
    at::Tensor c = r.to(at::kLong).contiguous();
    out.emplace_back(c.data_ptr<int64_t>(), c.data_ptr<int64_t>() + c.numel());
  }
  return out;
}

}  // namespace loom::accel::testing
