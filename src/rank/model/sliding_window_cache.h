// The KV cache of a sliding-window layer (Mistral, Qwen2 with use_sliding_window, Gemma-3's local layers): a query
// at position p attends positions (p - window, p], so the cache keeps only the last window - 1 tokens between
// appends, plus what one append brings (a prefill chunk, or the decoded token). Memory is bounded by
// (window - 1 + largest chunk) tokens, whatever the sequence length.
// head_rows() is undefined: the paged decode kernel has no window, so a sequence with a sliding layer decodes
// through its own caches (attend()).
// Acceleration methods compose with it per layer (make_layer_cache): their caches serve the full-attention layers;
// a sliding layer keeps this cache, already smaller than any budget past the window.
#pragma once

#include "model_card/model_card.h"
#include "rank/model/attention_policy.h"
#include "rank/model/kv_cache.h"

#include <memory>

namespace loom::model {

std::unique_ptr<LayerKVCache> make_sliding_window_cache(int64_t num_kv_heads, int64_t head_dim, int64_t window,
                                                        at::ScalarType dtype, at::Device device);

// The cache a sequence's `layer` starts with: a sliding-window cache on sliding layers (layer_window > 0), else
// the policy's make_cache.
std::unique_ptr<LayerKVCache> make_layer_cache(const ModelCard& config, AttentionPolicy& policy, int64_t layer);

// Attention of the last t_q tokens (queries [num_heads, t_q, dim]) over keys/values [num_kv_heads, T, dim] whose
// last token is the last query's, query i attending key j when 0 <= pos(i) - pos(j) < window. fp32 scores in
// query blocks; returns the queries' dtype.
at::Tensor sliding_window_attention(const at::Tensor& queries, const at::Tensor& keys, const at::Tensor& values,
                                    double scale, int64_t window);

}  // namespace loom::model
