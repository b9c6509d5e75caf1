// CUDA kernels of the acceleration methods. Raw device pointers, sizes and a stream; no libtorch types, so this
// header and the .cu files build with nvcc alone (tests/accel/cuda_accel_check.cu does that on the GPU machine).
// Every entry point takes one Params struct (named pointers, shapes, layout) and a stream, as FlashInfer's kernels
// do, and returns the launch status (cudaGetLastError after the launch).
//
//  block_sparse_attention   — causal prefill attention of a chunk of queries computed only on the
//                             (query block, key block) pairs of a mask (FlexPrefill, XAttention).
//  kivi_quantize_groups / kivi_dequantize_groups — KIVI's asymmetric group quantization; their Params are the CPU
//                             reference's (kernels/accel/kivi_quant.h), with every pointer in device memory.
// Semantics equal the CPU references in src/kernels/accel/. Decode attention over the paged cache and over KIVI's
// codes: paged_attention.h, kivi_decode.h.
#pragma once

#include "kernels/accel/kivi_quant.h"

#include <cuda_runtime_api.h>

#include <cstdint>

namespace loom::kernels::cuda {

enum class ElementType { kFloat32 = 0, kBFloat16 = 1, kFloat16 = 2 };

// Queries at positions q_start .. q_start + t_q - 1 of a sequence whose first total_len tokens are in keys/values.
// Query head h reads KV head h / (num_heads / num_kv_heads). Blocks are absolute: block b covers positions
// b * block_size .. (b + 1) * block_size - 1. All pointers are device memory; q, keys, values and out share `type`.
struct BlockSparseAttentionParams {
  ElementType type = ElementType::kBFloat16;
  const void* q = nullptr;       // [num_heads, t_q, head_dim], contiguous
  const void* keys = nullptr;    // [num_kv_heads, key_stride, head_dim], contiguous; tokens 0..total_len-1 valid
  const void* values = nullptr;  // [num_kv_heads, key_stride, head_dim], contiguous, like keys
  const uint8_t* block_mask = nullptr;  // uint8 [num_heads, num_blocks, num_blocks], num_blocks =
                                        // ceil(total_len / block_size); nonzero = (query block, key block) computed
  void* out = nullptr;           // [num_heads, t_q, head_dim], contiguous
  int64_t num_heads = 0;         // query heads, a multiple of num_kv_heads
  int64_t num_kv_heads = 0;
  int64_t t_q = 0;               // queries of this chunk, >= 1
  int64_t q_start = 0;           // position of the first query; q_start + t_q <= total_len
  int64_t total_len = 0;         // valid key/value tokens
  int64_t key_stride = 0;        // token capacity of a KV head in keys/values, >= total_len
  int64_t head_dim = 0;
  int64_t block_size = 0;        // tokens per mask block
  float scale = 1.0f;            // applied to q·k before the softmax
};

// Shapes: those block_sparse_attention_supported() accepts.
cudaError_t block_sparse_attention(const BlockSparseAttentionParams& params, cudaStream_t stream);

// Shapes block_sparse_attention takes: head_dim a multiple of 32 up to 256 with blocks of at most 128 tokens (CUDA
// cores), or 16-bit inputs with head_dim 64 / 128 and blocks of a multiple of 64 tokens (tensor cores, compute
// capability 8.0+, 16-byte aligned pointers; otherwise the CUDA-core kernel when the block fits it).
bool block_sparse_attention_supported(ElementType type, int64_t head_dim, int64_t block_size);

// Device pointers. cudaErrorInvalidValue for no groups, and (quantize) for bits other than 2, 4 or 8 or a
// group_size * bits that is not a multiple of 8; quantize takes groups of at most 128 values.
cudaError_t kivi_quantize_groups(const KiviQuantizeParams& params, cudaStream_t stream);
cudaError_t kivi_dequantize_groups(const KiviDequantizeParams& params, cudaStream_t stream);

}  // namespace loom::kernels::cuda
