// Merges two partial attention results over disjoint key sets into the attention over their union:
//   out = (out_a * exp(lse_a - m) + out_b * exp(lse_b - m)) / (exp(lse_a - m) + exp(lse_b - m)),  m = max(lse_a, lse_b)
// where lse_* are the natural-log softmax denominators (log-sum-exp of the scaled scores) each part returns. Used by
// chunked prefill to join "chunk queries over the cached prefix" and "chunk queries over the chunk, causal".
// Raw pointers and a Params struct; builds with nvcc alone.
#pragma once

#include "kernels/cuda/accel_kernels.h"

#include <cuda_runtime_api.h>

#include <cstdint>

namespace loom::kernels::cuda {

// All pointers are device memory; out_a, out_b and out share `type`, the log-sum-exps are fp32.
struct MergeAttentionParams {
  ElementType type = ElementType::kBFloat16;
  const void* out_a = nullptr;  // [heads, tokens, head_dim] with the strides below (elements), last dim contiguous
  const void* out_b = nullptr;  // [heads, tokens, head_dim], like out_a
  const float* lse_a = nullptr;  // fp32 [heads, tokens] with lse_*_head_stride, token stride 1
  const float* lse_b = nullptr;  // fp32 [heads, tokens], like lse_a
  void* out = nullptr;           // [heads, tokens, head_dim] with the out_* strides
  int32_t heads = 0;
  int32_t tokens = 0;
  int32_t head_dim = 0;
  int64_t a_head_stride = 0, a_token_stride = 0;  // of out_a, in elements
  int64_t b_head_stride = 0, b_token_stride = 0;  // of out_b
  int64_t out_head_stride = 0, out_token_stride = 0;
  int64_t lse_a_head_stride = 0, lse_b_head_stride = 0;
};

cudaError_t merge_attention(const MergeAttentionParams& params, cudaStream_t stream);

}  // namespace loom::kernels::cuda
