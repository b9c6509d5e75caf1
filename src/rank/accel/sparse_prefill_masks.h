// Block masks of the sparse-prefill methods, for one prefill chunk of one layer.
//
// Inputs follow model::PrefillAttentionInput: queries [num_heads, t_q, d] at positions T - t_q .. T - 1 (post-RoPE),
// keys [num_kv_heads, T, d]. The mask is bool [num_heads, nb, nb] over absolute blocks of block_size tokens
// (nb = ceil(T / block_size)); only the rows of the chunk's query blocks are set. With one chunk (t_q == T) both
// follow their official code exactly; under chunked prefill the chunk plays the role of the query sequence.
//
// FlexPrefill (flex_prefill/ops/flex_prefill_attention.py, get_active_blocks): the last block_size queries'
//   attention gives vertical (column) and slash (diagonal) scores; the number of vertical / slash blocks is the
//   fewest tokens covering gamma of the score, // block_size + 1, clamped to [min_budget, max_budget] / block_size;
//   a head whose block-pooled attention estimate is within sqrt-JS distance tau of the pooled vertical scores is
//   "query-aware": it takes min_budget vertical/slash blocks plus the blocks of pooled-query x pooled-key attention
//   covering gamma * (query blocks). Column 0 and the diagonal are always kept. Returns an undefined tensor when
//   the chunk is too short (t_q <= max(2 * block_size, min_budget rounded up)): dense attention is used then.
//   (The official code divides the token count by 128 whatever block_size is; we divide by block_size.)
// XAttention (xattn/src/Xattention.py xattn_estimate + utils.py find_blocks_chunked): antidiagonal scoring with
//   `stride`: query group r = concat_i q[rS + S-1-i], key group g = concat_i k[gS + i], softmax over causal key
//   groups of <Q_r, K_g> / sqrt(d) / S, summed per (query block, key block); per query block the first and the
//   diagonal key blocks are kept, then the others by decreasing sum while the kept sum is below threshold * total.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>

namespace loom::accel {

struct FlexPrefillSettings {
  int64_t block_size = 128;
  double gamma = 0.9;
  double tau = 0.1;
  int64_t min_budget = 512;
  int64_t max_budget = 32768;
};

struct XAttentionSettings {
  int64_t block_size = 128;
  int64_t stride = 16;
  double threshold = 0.9;
  bool keep_sink = false;
  bool keep_recent = false;
  // Memory, not results: the estimate's softmax runs over slices of query blocks whose fp32 logits stay under this.
  int64_t estimate_slice_bytes = int64_t{512} << 20;
};

at::Tensor flexprefill_block_mask(const at::Tensor& queries, const at::Tensor& keys, const FlexPrefillSettings& s);
at::Tensor xattention_block_mask(const at::Tensor& queries, const at::Tensor& keys, const XAttentionSettings& s);

// Causal attention of the chunk computed only on the mask's blocks: [num_heads, t_q, d] in the queries' dtype.
// CUDA tensors use kernels/cuda block_sparse_attention (when built with libtorch CUDA); otherwise a libtorch
// loop over (head, query block) that gathers the active key blocks.
at::Tensor block_sparse_attention(const at::Tensor& queries, const at::Tensor& keys, const at::Tensor& values,
                                  const at::Tensor& block_mask, int64_t block_size, double scale);

}  // namespace loom::accel
