// Thin libtorch adapters over the acceleration CUDA kernels (accel_kernels.h). Compiled only when libtorch has
// CUDA (LOOM_ACCEL_TORCH_CUDA is then defined for users of loom_kernels); callers guard their use with it.
// Tensors must be CUDA, contiguous, of one dtype (float32, bfloat16 or float16); index tensors int64 on the device.
#pragma once

#include "kernels/cuda/kivi_decode.h"

#include <ATen/ATen.h>

#include <cstdint>

namespace loom::kernels::cuda {

// Whether block_sparse_attention takes queries like `q` ([num_heads, t_q, head_dim]) with blocks of block_size.
bool block_sparse_attention_supported(const at::Tensor& q, int64_t block_size);
// q [num_heads, t_q, head_dim]; keys/values [num_kv_heads, T(+spare), head_dim] with total_len valid tokens;
// block_mask uint8 [num_heads, nb, nb]. Returns [num_heads, t_q, head_dim].
at::Tensor block_sparse_attention(const at::Tensor& q, const at::Tensor& keys, const at::Tensor& values,
                                  int64_t total_len, const at::Tensor& block_mask, int64_t block_size, double scale);

// x float32 [num_groups, group_size] -> (packed uint8 [num_groups, group_size*bits/8], scales, mins float32).
void kivi_quantize(const at::Tensor& x, int bits, at::Tensor& packed, at::Tensor& scales, at::Tensor& mins);
// KIVI's packed cache in the layouts of kernels/cuda/kivi_decode.h (CUDA tensors; scales/minima and tails in the
// queries' dtype).
struct KiviTensors {
  at::Tensor key_codes, key_scales, key_mins;        // may be empty (no quantized keys yet)
  at::Tensor value_codes, value_scales, value_mins;  // may be empty
  at::Tensor full_keys, full_values;                 // [kv_heads, tail, head_dim]
  int64_t key_quant_tokens = 0;
  int64_t value_quant_tokens = 0;
  int64_t group_size = 32;
  int key_bits = 2;
  int value_bits = 2;
};
// q [num_heads, head_dim] -> [num_heads, head_dim]: decode attention straight from the codes. blocks_per_sm: the
// kernel's resident blocks per SM, constant for a cache (dtype, shape, bits); 0 on the first call, which queries
// CUDA's occupancy once and stores it there, so later steps skip the query.
at::Tensor kivi_decode_attention(const at::Tensor& q, const KiviTensors& cache, double scale, int64_t& blocks_per_sm);

// The dense layer's fused elementwise ops (layer_kernels.h). Each returns false (or an undefined tensor) where its
// kernel does not apply — a dtype, a last dimension that is not a multiple of 16, a strided or misaligned operand —
// and the caller then runs libtorch's ops.
// x [..., dim] whose last dimension is contiguous and rows form at most two strided levels -> contiguous result.
at::Tensor fused_rms_norm(const at::Tensor& x, const at::Tensor& weight, double eps);
// hidden (contiguous, in place) += delta, then out = rms_norm(hidden).
bool fused_add_rms_norm(at::Tensor& hidden, const at::Tensor& delta, const at::Tensor& weight, double eps,
                        at::Tensor& out);
// gate_up [rows, 2 * inter] contiguous -> silu(gate) * up [rows, inter].
at::Tensor fused_silu_mul(const at::Tensor& gate_up);
// x [A, B, dim] with a contiguous last dimension; cos/sin broadcastable to it -> contiguous [A, B, dim].
at::Tensor fused_rope(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin);

// Inverse: float32 [num_groups, group_size].
at::Tensor kivi_dequantize(const at::Tensor& packed, const at::Tensor& scales, const at::Tensor& mins,
                           int64_t group_size, int bits);

}  // namespace loom::kernels::cuda
