// Framework-free CPU references of the attention kernels the acceleration methods use (plain float arrays,
// float64 accumulation). The CUDA kernels in src/kernels/cuda are checked against these. Each takes one Params
// struct (pointers, shapes, scale), as the CUDA kernels do.
//
// varlen_decode_attention_reference: one decode query per query head over a per-head variable-length cache.
//   KV head h owns rows offsets[h] .. offsets[h] + lengths[h] - 1 of keys/values (packed, any order of heads);
//   query head q reads KV head q / (num_heads / num_kv_heads).
// block_sparse_attention_reference: causal attention of one head's queries at positions q_start .. q_start+t_q-1
//   over keys/values 0..T-1 where only the (query block, key block) pairs set in `block_mask` are computed. Blocks
//   are absolute: block b covers positions b*block_size .. (b+1)*block_size-1. A query with no allowed key gets
//   zeros.
#pragma once

#include <cstdint>

namespace loom::kernels::accel {

struct VarlenDecodeReferenceParams {
  const float* q = nullptr;         // fp32 [num_heads, head_dim], contiguous
  const float* keys = nullptr;      // fp32 [rows, head_dim], contiguous; rows = sum of lengths (plus any spare rows)
  const float* values = nullptr;    // fp32 [rows, head_dim], contiguous, same rows as keys
  const int64_t* offsets = nullptr;  // [num_kv_heads]: first row of each KV head
  const int64_t* lengths = nullptr;  // [num_kv_heads]: tokens of each KV head
  float* out = nullptr;             // fp32 [num_heads, head_dim], contiguous
  int64_t num_heads = 0;            // query heads, a multiple of num_kv_heads
  int64_t num_kv_heads = 0;
  int64_t head_dim = 0;
  float scale = 1.0f;  // applied to q·k before the softmax
};

struct BlockSparseReferenceParams {
  const float* q = nullptr;       // fp32 [t_q, head_dim], contiguous: one head's queries
  const float* keys = nullptr;    // fp32 [total_len, head_dim], contiguous: that head's KV head
  const float* values = nullptr;  // fp32 [total_len, head_dim], contiguous
  const uint8_t* block_mask = nullptr;  // uint8 [num_blocks, num_blocks] row-major, num_blocks =
                                        // ceil(total_len / block_size); nonzero = (query block, key block) computed
  float* out = nullptr;           // fp32 [t_q, head_dim], contiguous
  int64_t t_q = 0;                // queries, at positions q_start .. q_start + t_q - 1
  int64_t q_start = 0;
  int64_t total_len = 0;          // T: keys/values 0..T-1, q_start + t_q <= T
  int64_t head_dim = 0;
  int64_t block_size = 0;         // tokens per block
  float scale = 1.0f;             // applied to q·k before the softmax
};

void varlen_decode_attention_reference(const VarlenDecodeReferenceParams& params);
void block_sparse_attention_reference(const BlockSparseReferenceParams& params);

}  // namespace loom::kernels::accel
