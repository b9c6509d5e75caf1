// Thin libtorch adapters over the acceleration CUDA kernels (accel_kernels.h). Compiled only when libtorch has
// CUDA (LOOM_ACCEL_TORCH_CUDA is then defined for users of loom_kernels); callers guard their use with it.
// Tensors must be CUDA, contiguous, of one dtype (float32, bfloat16 or float16); index tensors int64 on the device.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>

namespace loom::kernels::cuda {

// q [num_heads, head_dim]; keys/values [rows, head_dim]; offsets/lengths [num_kv_heads]. Returns [num_heads, head_dim].
at::Tensor varlen_decode_attention(const at::Tensor& q, const at::Tensor& keys, const at::Tensor& values,
                                   const at::Tensor& offsets, const at::Tensor& lengths, int64_t max_length,
                                   double scale);

// Whether block_sparse_attention takes queries like `q` ([num_heads, t_q, head_dim]) with blocks of block_size.
bool block_sparse_attention_supported(const at::Tensor& q, int64_t block_size);
// q [num_heads, t_q, head_dim]; keys/values [num_kv_heads, T(+spare), head_dim] with total_len valid tokens;
// block_mask uint8 [num_heads, nb, nb]. Returns [num_heads, t_q, head_dim].
at::Tensor block_sparse_attention(const at::Tensor& q, const at::Tensor& keys, const at::Tensor& values,
                                  int64_t total_len, const at::Tensor& block_mask, int64_t block_size, double scale);

// x float32 [num_groups, group_size] -> (packed uint8 [num_groups, group_size*bits/8], scales, mins float32).
void kivi_quantize(const at::Tensor& x, int bits, at::Tensor& packed, at::Tensor& scales, at::Tensor& mins);
// Inverse: float32 [num_groups, group_size].
at::Tensor kivi_dequantize(const at::Tensor& packed, const at::Tensor& scales, const at::Tensor& mins,
                           int64_t group_size, int bits);

}  // namespace loom::kernels::cuda
