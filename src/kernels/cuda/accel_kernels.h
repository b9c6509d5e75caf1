// CUDA kernels of the acceleration methods. Raw device pointers, sizes and a stream; no libtorch types, so this
// header and the .cu files build with nvcc alone (tests/accel/cuda_accel_check.cu does that on the GPU machine).
// Every function returns the launch status (cudaGetLastError after the launch).
//
//  block_sparse_attention   — causal prefill attention of a chunk of queries computed only on the
//                             (query block, key block) pairs of a mask (FlexPrefill, XAttention).
//  kivi_quantize_groups / kivi_dequantize_groups — KIVI's asymmetric group quantization (kernels/accel/kivi_quant.h).
// Semantics equal the CPU references in src/kernels/accel/. Decode attention over the paged cache and over KIVI's
// codes: paged_attention.h, kivi_decode.h.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

namespace loom::kernels::cuda {

enum class ElementType { kFloat32 = 0, kBFloat16 = 1, kFloat16 = 2 };

// q [num_heads, t_q, head_dim] at positions q_start..q_start+t_q-1; keys/values [num_kv_heads, key_stride,
// head_dim] holding total_len valid tokens; block_mask [num_heads, num_blocks, num_blocks] (uint8, num_blocks =
// ceil(total_len / block_size), absolute blocks). out [num_heads, t_q, head_dim]. Shapes: those
// block_sparse_attention_supported() accepts.
cudaError_t block_sparse_attention(ElementType type, const void* q, const void* keys, const void* values,
                                   int64_t num_heads, int64_t num_kv_heads, int64_t t_q, int64_t q_start,
                                   int64_t total_len, int64_t key_stride, int64_t head_dim,
                                   const uint8_t* block_mask, int64_t block_size, float scale, void* out,
                                   cudaStream_t stream);

// Shapes block_sparse_attention takes: head_dim a multiple of 32 up to 256 with blocks of at most 128 tokens (CUDA
// cores), or 16-bit inputs with head_dim 64 / 128 and blocks of a multiple of 64 tokens (tensor cores, compute
// capability 8.0+, 16-byte aligned pointers; otherwise the CUDA-core kernel when the block fits it).
bool block_sparse_attention_supported(ElementType type, int64_t head_dim, int64_t block_size);

cudaError_t kivi_quantize_groups(const float* x, int64_t num_groups, int64_t group_size, int bits, uint8_t* packed,
                                 float* scales, float* mins, cudaStream_t stream);
cudaError_t kivi_dequantize_groups(const uint8_t* packed, const float* scales, const float* mins,
                                   int64_t num_groups, int64_t group_size, int bits, float* out,
                                   cudaStream_t stream);

}  // namespace loom::kernels::cuda
