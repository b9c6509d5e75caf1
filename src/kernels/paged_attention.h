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

// Page ranges per row for a decode batch of `batch` sequences on the current CUDA device (1 without CUDA).
int64_t decode_splits(int64_t batch, int64_t num_kv_heads);

// The token rows of a row's pages, as flat indices into pool.view({-1, head_dim}): pages[i] * page_size + j for the
// first `length` tokens (int64, on the CPU).
at::Tensor paged_row_indices(const int32_t* pages, int64_t length, int64_t page_size);

}  // namespace loom::kernels
