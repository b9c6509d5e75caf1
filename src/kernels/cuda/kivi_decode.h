// Decode attention straight from KIVI's packed codes (rank/accel/kivi_kv_cache.h): one query per query head over a
// cache whose oldest keys are quantized per channel (groups of group_size tokens) and oldest values per token
// (groups of group_size channels), with full-precision tails — nothing is dequantized into memory.
// Raw pointers and a Params struct; builds with nvcc alone.
//
// Token-major layouts (H = num_kv_heads, D = head_dim, g = group_size, b = bits):
//   key_codes   uint8 [key_quant_tokens / g, H, D, g*b/8]   key_scales / key_mins   [key_quant_tokens / g, H, D]
//   value_codes uint8 [value_quant_tokens, H, D/g, g*b/8]   value_scales / value_mins [value_quant_tokens, H, D/g]
//   full_keys [H, total - key_quant_tokens, D], full_values [H, total - value_quant_tokens, D] (contiguous)
// A code c of a group with scale s and minimum m stands for c * s + m; code i of a group sits at bit (i*b) % 8 of
// byte (i*b) / 8 (kernels/accel/kivi_quant.h). Scales, minima, tails, q and out share one element type.
#pragma once

#include "kernels/cuda/accel_kernels.h"

#include <cuda_runtime_api.h>

#include <cstdint>

namespace loom::kernels::cuda {

struct KiviDecodeParams {
  ElementType type = ElementType::kBFloat16;
  const void* q = nullptr;  // [num_heads, head_dim]
  void* out = nullptr;      // [num_heads, head_dim]
  int32_t num_heads = 0;
  int32_t num_kv_heads = 0;
  int32_t head_dim = 0;
  int32_t group_size = 32;
  int32_t key_bits = 2;
  int32_t value_bits = 2;
  int64_t total_tokens = 0;
  int64_t key_quant_tokens = 0;    // a multiple of group_size
  int64_t value_quant_tokens = 0;
  const uint8_t* key_codes = nullptr;
  const void* key_scales = nullptr;
  const void* key_mins = nullptr;
  const uint8_t* value_codes = nullptr;
  const void* value_scales = nullptr;
  const void* value_mins = nullptr;
  const void* full_keys = nullptr;
  const void* full_values = nullptr;
  float scale = 1.0f;
  int32_t num_splits = 1;
  float* workspace = nullptr;  // kivi_decode_workspace_floats()
};

// Shapes the kernel takes: head_dim 64 or 128, group_size a multiple of 32 that divides head_dim (KIVI's 32, 64,
// 128: a warp's 32 tokens share each key channel's scale), bits 2, 4 or 8, at most 8 query heads per KV head;
// key_quant_tokens a multiple of group_size. Other shapes take KiviCache's dequantizing path.
bool kivi_decode_supported(int64_t head_dim, int64_t group_size, int64_t key_bits, int64_t value_bits,
                           int64_t group);
int64_t kivi_decode_workspace_floats(int64_t num_heads, int64_t head_dim, int64_t num_splits);
// Resident blocks per SM of the kernel instance these params select (CUDA occupancy, with its shared memory);
// one block serves a (KV head, split), so the host picks splits that fill the device in whole waves. 0 when the
// shape is not supported.
int64_t kivi_decode_blocks_per_sm(const KiviDecodeParams& params);
cudaError_t kivi_decode_attention(const KiviDecodeParams& params, cudaStream_t stream);

}  // namespace loom::kernels::cuda
