// Framework-free CPU references of the attention kernels the acceleration methods use (plain float arrays,
// float64 accumulation). The CUDA kernels in src/kernels/cuda are checked against these.
//
// varlen_decode_attention_reference: one decode query per query head over a per-head variable-length cache.
//   q [num_heads, head_dim]; keys/values [rows, head_dim] where KV head h owns rows offsets[h] .. offsets[h] +
//   lengths[h] - 1 (packed, any order of heads); query head q reads KV head q / (num_heads / num_kv_heads).
//   out [num_heads, head_dim].
// block_sparse_attention_reference: causal attention of one head's queries at positions q_start .. q_start+t_q-1
//   over keys/values 0..T-1 where only the (query block, key block) pairs set in `block_mask` are computed. Blocks
//   are absolute: block b covers positions b*block_size .. (b+1)*block_size-1. block_mask is row-major
//   [num_query_blocks(T), num_key_blocks(T)] (both ceil(T / block_size)). A query with no allowed key gets zeros.
#pragma once

#include <cstdint>

namespace loom::kernels::accel {

void varlen_decode_attention_reference(const float* q, const float* keys, const float* values,
                                       const int64_t* offsets, const int64_t* lengths, int64_t num_heads,
                                       int64_t num_kv_heads, int64_t head_dim, float scale, float* out);

void block_sparse_attention_reference(const float* q, const float* keys, const float* values, int64_t t_q,
                                      int64_t q_start, int64_t total_len, int64_t head_dim, const uint8_t* block_mask,
                                      int64_t block_size, float scale, float* out);

}  // namespace loom::kernels::accel
