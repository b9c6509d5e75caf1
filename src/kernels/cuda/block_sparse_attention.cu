// Block-sparse causal prefill attention (FlexPrefill / XAttention masks). bf16 / fp16 with head_dim 64 or 128 and
// blocks of a multiple of 64 tokens go to the tensor-core kernel (block_sparse_attention_mma.cu). Everything else
// (fp32, other shapes) runs the CUDA-core kernel below: one thread block per (query head, query block), query rows
// and their running softmax state in shared memory, key/value tiles of 32 tokens of each active key block staged in
// shared memory; a warp handles a row at a time with one key per lane.
#include "kernels/cuda/accel_kernels.h"
#include "kernels/cuda/block_sparse_attention_mma.h"
#include "kernels/cuda/element_access.cuh"

#include <cmath>

namespace loom::kernels::cuda {

namespace {

using detail::to_float;
using detail::warp_max;
using detail::warp_sum;

constexpr int kWarps = 4;
constexpr int kTile = 32;

template <class T>
__global__ void block_sparse_kernel(const T* __restrict__ q, const T* __restrict__ keys,
                                    const T* __restrict__ values, int group, int64_t t_q, int64_t q_start,
                                    int64_t total_len, int64_t key_stride, int head_dim,
                                    const uint8_t* __restrict__ block_mask, int block_size, int num_blocks,
                                    float scale, T* __restrict__ out) {
  extern __shared__ float shared[];
  const int head = blockIdx.x;
  const int64_t qb = q_start / block_size + blockIdx.y;
  const int64_t row_begin = max(qb * block_size, q_start);
  const int64_t row_end = min((qb + 1) * block_size, q_start + t_q);
  const int rows = static_cast<int>(row_end - row_begin);
  if (rows <= 0) return;
  const int kv = head / group;
  const int stride = head_dim + 1;
  float* q_rows = shared;                                 // [block_size][head_dim]
  float* acc = q_rows + block_size * head_dim;            // [block_size][head_dim]
  float* row_m = acc + block_size * head_dim;             // [block_size]
  float* row_l = row_m + block_size;                      // [block_size]
  float* key_tile = row_l + block_size;                   // [kTile][head_dim + 1]
  float* value_tile = key_tile + kTile * stride;          // [kTile][head_dim + 1]
  const int warp = threadIdx.x / 32;
  const int lane = threadIdx.x % 32;

  for (int idx = threadIdx.x; idx < rows * head_dim; idx += blockDim.x) {
    const int r = idx / head_dim;
    const int c = idx % head_dim;
    q_rows[idx] = to_float(q[(static_cast<int64_t>(head) * t_q + (row_begin - q_start) + r) * head_dim + c]) * scale;
    acc[idx] = 0.0f;
  }
  for (int r = threadIdx.x; r < rows; r += blockDim.x) {
    row_m[r] = -INFINITY;
    row_l[r] = 0.0f;
  }
  __syncthreads();

  const T* head_keys = keys + static_cast<int64_t>(kv) * key_stride * head_dim;
  const T* head_values = values + static_cast<int64_t>(kv) * key_stride * head_dim;
  const uint8_t* mask_row = block_mask + (static_cast<int64_t>(head) * num_blocks + qb) * num_blocks;
  const int64_t last_position = row_end - 1;
  for (int64_t kb = 0; kb <= qb; ++kb) {
    if (!mask_row[kb]) continue;
    const int64_t block_end = min(min((kb + 1) * block_size, total_len), last_position + 1);
    for (int64_t tile_start = kb * block_size; tile_start < block_end; tile_start += kTile) {
      const int tile_len = static_cast<int>(min(static_cast<int64_t>(kTile), block_end - tile_start));
      for (int idx = threadIdx.x; idx < kTile * head_dim; idx += blockDim.x) {
        const int j = idx / head_dim;
        const int c = idx % head_dim;
        const bool valid = j < tile_len;
        key_tile[j * stride + c] = valid ? to_float(head_keys[(tile_start + j) * head_dim + c]) : 0.0f;
        value_tile[j * stride + c] = valid ? to_float(head_values[(tile_start + j) * head_dim + c]) : 0.0f;
      }
      __syncthreads();
      for (int r = warp; r < rows; r += kWarps) {
        const int64_t position = row_begin + r;
        const int64_t key_position = tile_start + lane;
        const bool allowed = lane < tile_len && key_position <= position;
        float s = -INFINITY;
        if (allowed) {
          float dot = 0.0f;
          const float* qr = q_rows + r * head_dim;
          const float* kr = key_tile + lane * stride;
          for (int c = 0; c < head_dim; ++c) dot += qr[c] * kr[c];
          s = dot;
        }
        const float tile_max = warp_max(s);
        if (tile_max == -INFINITY) continue;  // no key of this tile is visible to this row
        const float m_old = row_m[r];
        const float m_new = fmaxf(m_old, tile_max);
        const float p = allowed ? __expf(s - m_new) : 0.0f;
        const float correction = __expf(m_old - m_new);
        const float p_sum = warp_sum(p);
        float* ar = acc + r * head_dim;
        for (int c = lane; c < head_dim; c += 32) {
          float total = ar[c] * correction;
          for (int j = 0; j < tile_len; ++j) total += __shfl_sync(0xffffffffu, p, j) * value_tile[j * stride + c];
          ar[c] = total;
        }
        __syncwarp();
        if (lane == 0) {
          row_l[r] = row_l[r] * correction + p_sum;
          row_m[r] = m_new;
        }
        __syncwarp();
      }
      __syncthreads();
    }
  }
  for (int idx = threadIdx.x; idx < rows * head_dim; idx += blockDim.x) {
    const int r = idx / head_dim;
    const float l = row_l[r];
    out[(static_cast<int64_t>(head) * t_q + (row_begin - q_start) + r) * head_dim + idx % head_dim] =
        detail::from_float<T>(l > 0.0f ? acc[idx] / l : 0.0f);
  }
}

template <class T>
cudaError_t launch_block_sparse(const BlockSparseAttentionParams& p, cudaStream_t stream) {
  const int64_t num_heads = p.num_heads, num_kv_heads = p.num_kv_heads, t_q = p.t_q, q_start = p.q_start;
  const int64_t total_len = p.total_len, head_dim = p.head_dim, block_size = p.block_size;
  if (head_dim % 32 != 0 || head_dim > 256 || block_size <= 0 || block_size > 128 || t_q <= 0 ||
      num_heads % num_kv_heads != 0 || q_start + t_q > total_len) {
    return cudaErrorInvalidValue;
  }
  const int64_t num_blocks = (total_len + block_size - 1) / block_size;
  const int64_t first_block = q_start / block_size;
  const int64_t last_block = (q_start + t_q - 1) / block_size;
  const size_t shared_bytes =
      sizeof(float) * (2 * block_size * head_dim + 2 * block_size + 2 * kTile * (head_dim + 1));
  cudaError_t status = cudaFuncSetAttribute(block_sparse_kernel<T>, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                            static_cast<int>(shared_bytes));
  if (status != cudaSuccess) return status;
  const dim3 grid(static_cast<unsigned>(num_heads), static_cast<unsigned>(last_block - first_block + 1));
  block_sparse_kernel<T><<<grid, kWarps * 32, shared_bytes, stream>>>(
      static_cast<const T*>(p.q), static_cast<const T*>(p.keys), static_cast<const T*>(p.values),
      static_cast<int>(num_heads / num_kv_heads), t_q, q_start, total_len, p.key_stride, static_cast<int>(head_dim),
      p.block_mask, static_cast<int>(block_size), static_cast<int>(num_blocks), p.scale, static_cast<T*>(p.out));
  return cudaGetLastError();
}

}  // namespace

bool block_sparse_attention_supported(ElementType type, int64_t head_dim, int64_t block_size) {
  const bool cuda_cores = head_dim % 32 == 0 && head_dim <= 256 && block_size > 0 && block_size <= 128;
  return cuda_cores || block_sparse_mma_shape(type, head_dim, block_size);
}

cudaError_t block_sparse_attention(const BlockSparseAttentionParams& params, cudaStream_t stream) {
  if (block_sparse_mma_supported(params)) return block_sparse_attention_mma(params, stream);
  switch (params.type) {
    case ElementType::kFloat32:
      return launch_block_sparse<float>(params, stream);
    case ElementType::kBFloat16:
      return launch_block_sparse<__nv_bfloat16>(params, stream);
    case ElementType::kFloat16:
      return launch_block_sparse<__half>(params, stream);
  }
  return cudaErrorInvalidValue;
}

}  // namespace loom::kernels::cuda
