// KV cache of one sequence in one layer, and the attention computed against it.
//
// The cache owns keys (post-RoPE) and values of every KV head; it is also the thing that computes attention over
// itself, so that a compressed layout (per-head variable length, quantized, channel-pruned) brings its own
// attention and really saves memory. Shapes (one sequence, no batch dimension):
//   keys/values appended:  [num_kv_heads, t_new, head_dim]
//   queries:               [num_heads, t_q, head_dim]   (num_heads = num_kv_heads * group)
//   attention output:      [num_heads, t_q, head_dim]
// Positions: logical_length() counts every token ever appended (RoPE positions continue from it after eviction);
// stored_tokens(h) is what head h physically holds.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <memory>
#include <utility>

namespace loom::model {

class LayerKVCache {
 public:
  virtual ~LayerKVCache() = default;

  // Appends new keys/values (post-RoPE).
  virtual void append(const at::Tensor& keys, const at::Tensor& values) = 0;

  // Attention of `queries` over the cache, scaled by `scale`. The last t_q appended tokens are the queries' own
  // tokens: query i may attend to every stored token that is not one of those, and to own tokens 0..i (causal).
  // Decode is t_q = 1 right after appending its token.
  virtual at::Tensor attend(const at::Tensor& queries, double scale) const = 0;

  // Dense view of all stored keys/values, [num_kv_heads, T, head_dim] (dequantized where needed). Only valid when
  // every head holds the same number of tokens; methods use it at the end of prefill.
  virtual std::pair<at::Tensor, at::Tensor> dense() const = 0;

  // Stored keys and values of one KV head, [stored_tokens(kv_head), head_dim] each, in position order; undefined
  // tensors when the layout has no plain rows (quantized or channel-pruned caches). A cache whose every head has
  // rows moves into the engine's PagedKVStore for decoding; the others decode through attend().
  virtual std::pair<at::Tensor, at::Tensor> head_rows(int64_t kv_head) const { return {}; }

  virtual int64_t logical_length() const = 0;
  virtual int64_t stored_tokens(int64_t kv_head) const = 0;
  virtual int64_t bytes() const = 0;  // memory held by keys, values and any index/scale tensors
};

// The full, uncompressed cache: contiguous [num_kv_heads, capacity, head_dim] tensors that grow by doubling.
std::unique_ptr<LayerKVCache> make_dense_cache(int64_t num_kv_heads, int64_t head_dim, at::ScalarType dtype,
                                               at::Device device, int64_t reserve_tokens = 0);

}  // namespace loom::model
