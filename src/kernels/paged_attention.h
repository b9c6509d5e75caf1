// Decode attention over the paged per-head KV cache (layout: kernels/cuda/paged_attention.h), libtorch side.
//
//   paged_append:            the batch's new key/value token of every KV head goes to position lengths[row] of
//                            its row, and lengths[row] grows by one (the page must already be in the table).
//   paged_decode_attention:  out[b, h] = softmax(scale * q[b, h] . K_row^T) V_row over every token of row
//                            (slot_of[b], h / group); entries with slot_of[b] < 0 give zeros.
// CUDA tensors with a supported shape (cuda::paged_attention_supported) run the CUDA kernels, which never read
// anything back to the host (CUDA-graph safe). Everything else runs the reference: per row, the row's tokens are
// gathered from their pages and attended with causal_tail_attention_reference (fp32), the same arithmetic as the
// dense cache's CPU attention.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>

namespace loom::kernels {

struct PagedLayer {
  at::Tensor key_pool;    // [num_pages, page_size, head_dim]
  at::Tensor value_pool;  // [num_pages, page_size, head_dim]
  at::Tensor page_table;  // int32 [rows, max_pages_per_row] (this layer)
  at::Tensor lengths;     // int32 [rows] (this layer)
  int64_t num_kv_heads = 0;
};

// keys/values [batch, num_kv_heads, head_dim]; slot_of int32 [batch].
void paged_append(const PagedLayer& layer, const at::Tensor& keys, const at::Tensor& values,
                  const at::Tensor& slot_of);

// q [batch, num_heads, head_dim] -> [batch, num_heads, head_dim]. num_splits: page ranges per row on CUDA
// (decode_splits); ignored by the reference.
at::Tensor paged_decode_attention(const PagedLayer& layer, const at::Tensor& q, const at::Tensor& slot_of,
                                  double scale, int64_t num_splits);

// The reference path on any device (tests compare the CUDA kernels with it).
void paged_append_reference(const PagedLayer& layer, const at::Tensor& keys, const at::Tensor& values,
                            const at::Tensor& slot_of);
at::Tensor paged_decode_attention_reference(const PagedLayer& layer, const at::Tensor& q, const at::Tensor& slot_of,
                                            double scale);

// Whether q/pools of this dtype and head_dim run the CUDA kernels (false without CUDA).
bool paged_kernels_available(const at::Tensor& q);

// Splits (1 .. max_splits) of each row's pages for the CUDA decode kernel: a block does 1 / splits of a row plus a
// fixed cost (2 % of a row), blocks run in waves of resident_blocks (SMs x blocks per SM), and the split count with
// the least waves x block time wins (ties: fewer splits). blocks_per_split: blocks one split of every row takes.
int64_t choose_decode_splits(int64_t blocks_per_split, int64_t resident_blocks, int64_t max_splits);

// Page ranges per row for a decode batch of `batch` sequences (group query heads per KV head) on the current CUDA
// device: enough blocks to fill the device in whole waves (1 without CUDA).
int64_t decode_splits(int64_t batch, int64_t num_kv_heads, int64_t group, int64_t head_dim, at::ScalarType dtype);

// The token rows of a row's pages, as flat indices into pool.view({-1, head_dim}): pages[i] * page_size + j for the
// first `length` tokens (int64, on the CPU).
at::Tensor paged_row_indices(const int32_t* pages, int64_t length, int64_t page_size);

}  // namespace loom::kernels
