// Decode attention over a per-head variable-length packed KV cache (flash-decoding: token chunks are processed
// by separate blocks, then combined). See accel_kernels.h.
#include "kernels/cuda/accel_kernels.h"
#include "kernels/cuda/element_access.cuh"

#include <algorithm>
#include <cmath>

namespace loom::kernels::cuda {

namespace {

using detail::kMaxElementsPerLane;
using detail::to_float;
using detail::warp_sum;

constexpr int kWarps = 4;
constexpr int kChunkTokens = 256;

template <class T>
__global__ void varlen_decode_split_kernel(const T* __restrict__ q, const T* __restrict__ keys,
                                           const T* __restrict__ values, const int64_t* __restrict__ offsets,
                                           const int64_t* __restrict__ lengths, int group, int head_dim,
                                           float scale, int num_splits, float* __restrict__ workspace) {
  const int head = blockIdx.x;
  const int split = blockIdx.y;
  const int warp = threadIdx.x / 32;
  const int lane = threadIdx.x % 32;
  const int kv = head / group;
  const int64_t length = lengths[kv];
  const int64_t base = offsets[kv];
  const int64_t begin = static_cast<int64_t>(split) * kChunkTokens;
  const int64_t end = min(length, begin + kChunkTokens);
  const int epl = head_dim / 32;

  float qv[kMaxElementsPerLane];
  float acc[kMaxElementsPerLane];
#pragma unroll
  for (int i = 0; i < kMaxElementsPerLane; ++i) {
    qv[i] = i < epl ? to_float(q[static_cast<int64_t>(head) * head_dim + lane + 32 * i]) * scale : 0.0f;
    acc[i] = 0.0f;
  }
  float m = -INFINITY;
  float l = 0.0f;
  for (int64_t t = begin + warp; t < end; t += kWarps) {
    const T* key = keys + (base + t) * head_dim;
    float partial = 0.0f;
#pragma unroll
    for (int i = 0; i < kMaxElementsPerLane; ++i) {
      if (i < epl) partial += qv[i] * to_float(key[lane + 32 * i]);
    }
    const float s = warp_sum(partial);
    const float m_new = fmaxf(m, s);
    const float correction = __expf(m - m_new);
    const float p = __expf(s - m_new);
    l = l * correction + p;
    const T* value = values + (base + t) * head_dim;
#pragma unroll
    for (int i = 0; i < kMaxElementsPerLane; ++i) {
      if (i < epl) acc[i] = acc[i] * correction + p * to_float(value[lane + 32 * i]);
    }
    m = m_new;
  }

  __shared__ float shared_m[kWarps];
  __shared__ float shared_l[kWarps];
  __shared__ float shared_acc[kWarps][32 * kMaxElementsPerLane];
  if (lane == 0) {
    shared_m[warp] = m;
    shared_l[warp] = l;
  }
#pragma unroll
  for (int i = 0; i < kMaxElementsPerLane; ++i) {
    if (i < epl) shared_acc[warp][lane + 32 * i] = acc[i];
  }
  __syncthreads();
  float* out = workspace + (static_cast<int64_t>(head) * num_splits + split) * (head_dim + 2);
  float block_m = -INFINITY;
  for (int w = 0; w < kWarps; ++w) block_m = fmaxf(block_m, shared_m[w]);
  for (int c = threadIdx.x; c < head_dim; c += blockDim.x) {
    float total = 0.0f;
    for (int w = 0; w < kWarps; ++w) {
      if (shared_m[w] != -INFINITY) total += shared_acc[w][c] * __expf(shared_m[w] - block_m);
    }
    out[2 + c] = total;
  }
  if (threadIdx.x == 0) {
    float block_l = 0.0f;
    for (int w = 0; w < kWarps; ++w) {
      if (shared_m[w] != -INFINITY) block_l += shared_l[w] * __expf(shared_m[w] - block_m);
    }
    out[0] = block_m;
    out[1] = block_l;
  }
}

template <class T>
__global__ void varlen_decode_combine_kernel(const float* __restrict__ workspace, int num_splits, int head_dim,
                                             T* __restrict__ out) {
  const int head = blockIdx.x;
  const float* partials = workspace + static_cast<int64_t>(head) * num_splits * (head_dim + 2);
  float m = -INFINITY;
  for (int s = 0; s < num_splits; ++s) m = fmaxf(m, partials[s * (head_dim + 2)]);
  float l = 0.0f;
  for (int s = 0; s < num_splits; ++s) {
    const float ms = partials[s * (head_dim + 2)];
    if (ms != -INFINITY) l += partials[s * (head_dim + 2) + 1] * __expf(ms - m);
  }
  for (int c = threadIdx.x; c < head_dim; c += blockDim.x) {
    float total = 0.0f;
    for (int s = 0; s < num_splits; ++s) {
      const float ms = partials[s * (head_dim + 2)];
      if (ms != -INFINITY) total += partials[s * (head_dim + 2) + 2 + c] * __expf(ms - m);
    }
    out[static_cast<int64_t>(head) * head_dim + c] = detail::from_float<T>(l > 0.0f ? total / l : 0.0f);
  }
}

template <class T>
cudaError_t launch_varlen(const void* q, const void* keys, const void* values, const int64_t* offsets,
                          const int64_t* lengths, int64_t num_heads, int64_t num_kv_heads, int64_t head_dim,
                          int64_t max_length, float scale, float* workspace, void* out, cudaStream_t stream) {
  if (head_dim % 32 != 0 || head_dim > 32 * kMaxElementsPerLane || num_heads % num_kv_heads != 0) {
    return cudaErrorInvalidValue;
  }
  const int num_splits = static_cast<int>((std::max<int64_t>(max_length, 1) + kChunkTokens - 1) / kChunkTokens);
  const dim3 grid(static_cast<unsigned>(num_heads), static_cast<unsigned>(num_splits));
  varlen_decode_split_kernel<T><<<grid, kWarps * 32, 0, stream>>>(
      static_cast<const T*>(q), static_cast<const T*>(keys), static_cast<const T*>(values), offsets, lengths,
      static_cast<int>(num_heads / num_kv_heads), static_cast<int>(head_dim), scale, num_splits, workspace);
  cudaError_t status = cudaGetLastError();
  if (status != cudaSuccess) return status;
  varlen_decode_combine_kernel<T><<<static_cast<unsigned>(num_heads), 128, 0, stream>>>(
      workspace, num_splits, static_cast<int>(head_dim), static_cast<T*>(out));
  return cudaGetLastError();
}

}  // namespace

int64_t varlen_decode_workspace_floats(int64_t num_heads, int64_t max_length, int64_t head_dim) {
  const int64_t num_splits = (std::max<int64_t>(max_length, 1) + kChunkTokens - 1) / kChunkTokens;
  return num_heads * num_splits * (head_dim + 2);
}

cudaError_t varlen_decode_attention(ElementType type, const void* q, const void* keys, const void* values,
                                    const int64_t* offsets, const int64_t* lengths, int64_t num_heads,
                                    int64_t num_kv_heads, int64_t head_dim, int64_t max_length, float scale,
                                    float* workspace, void* out, cudaStream_t stream) {
  switch (type) {
    case ElementType::kFloat32:
      return launch_varlen<float>(q, keys, values, offsets, lengths, num_heads, num_kv_heads, head_dim, max_length,
                                  scale, workspace, out, stream);
    case ElementType::kBFloat16:
      return launch_varlen<__nv_bfloat16>(q, keys, values, offsets, lengths, num_heads, num_kv_heads, head_dim,
                                          max_length, scale, workspace, out, stream);
    case ElementType::kFloat16:
      return launch_varlen<__half>(q, keys, values, offsets, lengths, num_heads, num_kv_heads, head_dim, max_length,
                                   scale, workspace, out, stream);
  }
  return cudaErrorInvalidValue;
}

}  // namespace loom::kernels::cuda
