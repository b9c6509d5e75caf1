// Decode attention over a per-head variable-length packed KV cache (flash-decoding: token chunks are processed
// by separate blocks, then combined). See accel_kernels.h. bf16 / fp16 caches with head_dim 64 or 128 and at most
// 8 query heads per KV head take the GQA kernel (one block per KV head and chunk, 16-byte loads); the rest the
// generic split kernel (one block per query head and chunk, one warp per token).
#include "kernels/cuda/accel_kernels.h"
#include "kernels/cuda/element_access.cuh"

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace loom::kernels::cuda {

namespace {

using detail::aligned16;
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

// GQA path (bf16 / fp16, head_dim 64 or 128, at most 8 query heads per KV head): one thread block per (KV head,
// chunk) serves every query head of the group, so each key and value row is read once; kD / 8 lanes hold one row
// with 16-byte loads (several rows per warp in flight), each slot of lanes keeps an online softmax per query head,
// and the slots are merged in shared memory into the same workspace layout as the generic split kernel.
__device__ __forceinline__ void unpack8(const uint4& raw, const __nv_bfloat16*, float (&x)[8]) {
  const __nv_bfloat162* p = reinterpret_cast<const __nv_bfloat162*>(&raw);
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    const float2 f = __bfloat1622float2(p[i]);
    x[2 * i] = f.x;
    x[2 * i + 1] = f.y;
  }
}
__device__ __forceinline__ void unpack8(const uint4& raw, const __half*, float (&x)[8]) {
  const __half2* p = reinterpret_cast<const __half2*>(&raw);
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    const float2 f = __half22float2(p[i]);
    x[2 * i] = f.x;
    x[2 * i + 1] = f.y;
  }
}

template <class T, int kD, int kGroup>
__global__ void __launch_bounds__(kWarps * 32)
    varlen_decode_gqa_kernel(const T* __restrict__ q, const T* __restrict__ keys, const T* __restrict__ values,
                             const int64_t* __restrict__ offsets, const int64_t* __restrict__ lengths, float scale,
                             int num_splits, float* __restrict__ workspace) {
  constexpr int kLanes = kD / 8;                    // lanes per row
  constexpr int kSlots = kWarps * 32 / kLanes;      // rows in flight per block
  __shared__ float slot_m[kSlots][kGroup];
  __shared__ float slot_l[kSlots][kGroup];
  __shared__ float slot_acc[kSlots][kGroup][kD];
  const int kv = blockIdx.x;
  const int split = blockIdx.y;
  const int slot = threadIdx.x / kLanes;
  const int part = threadIdx.x % kLanes;  // dims part*8 .. part*8+7
  const int64_t length = lengths[kv];
  const int64_t base = offsets[kv];
  const int64_t begin = static_cast<int64_t>(split) * kChunkTokens;
  const int64_t end = min(length, begin + kChunkTokens);

  float qv[kGroup][8];
  float acc[kGroup][8];
  float m[kGroup];
  float l[kGroup];
#pragma unroll
  for (int g = 0; g < kGroup; ++g) {
    float x[8];
    unpack8(*reinterpret_cast<const uint4*>(q + (static_cast<int64_t>(kv) * kGroup + g) * kD + part * 8),
            static_cast<const T*>(nullptr), x);
#pragma unroll
    for (int i = 0; i < 8; ++i) {
      qv[g][i] = x[i] * scale;
      acc[g][i] = 0.0f;
    }
    m[g] = -INFINITY;
    l[g] = 0.0f;
  }
  // Every lane of a warp runs the same iterations (the score reduction shuffles over the whole warp); a slot past
  // the chunk's end reduces a zero row and skips the update.
  auto accumulate = [&](const uint4& key_raw, const uint4& value_raw, bool valid) {
    float k[8];
    float v[8];
    unpack8(key_raw, static_cast<const T*>(nullptr), k);
    unpack8(value_raw, static_cast<const T*>(nullptr), v);
#pragma unroll
    for (int g = 0; g < kGroup; ++g) {
      float s = 0.0f;
#pragma unroll
      for (int i = 0; i < 8; ++i) s += qv[g][i] * k[i];
#pragma unroll
      for (int offset = kLanes / 2; offset > 0; offset >>= 1) s += __shfl_xor_sync(0xffffffffu, s, offset);
      if (valid) {
        const float m_new = fmaxf(m[g], s);
        const float correction = __expf(m[g] - m_new);
        const float p = __expf(s - m_new);
        l[g] = l[g] * correction + p;
#pragma unroll
        for (int i = 0; i < 8; ++i) acc[g][i] = acc[g][i] * correction + p * v[i];
        m[g] = m_new;
      }
    }
  };
  // Two rows per slot in flight: both loads are issued before either is used. The loop bound is the warp's first
  // slot, so it is the same for every lane of the warp.
  constexpr int kSlotsPerWarp = 32 / kLanes;
  const int warp_slot = (slot / kSlotsPerWarp) * kSlotsPerWarp;
  const uint4 zero = make_uint4(0, 0, 0, 0);
  for (int64_t t0 = begin + warp_slot; t0 < end; t0 += 2 * kSlots) {
    const int64_t t = t0 + (slot - warp_slot);
    const bool first = t < end;
    const bool second = t + kSlots < end;
    const int64_t row = (base + t) * kD + part * 8;
    const int64_t row2 = row + static_cast<int64_t>(kSlots) * kD;
    const uint4 key_raw = first ? *reinterpret_cast<const uint4*>(keys + row) : zero;
    const uint4 value_raw = first ? *reinterpret_cast<const uint4*>(values + row) : zero;
    const uint4 key_raw2 = second ? *reinterpret_cast<const uint4*>(keys + row2) : zero;
    const uint4 value_raw2 = second ? *reinterpret_cast<const uint4*>(values + row2) : zero;
    accumulate(key_raw, value_raw, first);
    if (t0 + kSlots < end) accumulate(key_raw2, value_raw2, second);  // warp-uniform condition
  }
#pragma unroll
  for (int g = 0; g < kGroup; ++g) {
#pragma unroll
    for (int i = 0; i < 8; ++i) slot_acc[slot][g][part * 8 + i] = acc[g][i];
    if (part == 0) {
      slot_m[slot][g] = m[g];
      slot_l[slot][g] = l[g];
    }
  }
  __syncthreads();
  for (int idx = threadIdx.x; idx < kGroup * kD; idx += blockDim.x) {
    const int g = idx / kD;
    const int c = idx % kD;
    float block_m = -INFINITY;
#pragma unroll
    for (int s = 0; s < kSlots; ++s) block_m = fmaxf(block_m, slot_m[s][g]);
    float total = 0.0f;
    float total_l = 0.0f;
#pragma unroll
    for (int s = 0; s < kSlots; ++s) {
      if (slot_m[s][g] == -INFINITY) continue;
      const float w = __expf(slot_m[s][g] - block_m);
      total += slot_acc[s][g][c] * w;
      total_l += slot_l[s][g] * w;
    }
    float* out = workspace + ((static_cast<int64_t>(kv) * kGroup + g) * num_splits + split) * (kD + 2);
    out[2 + c] = total;
    if (c == 0) {
      out[0] = block_m;
      out[1] = total_l;
    }
  }
}

template <class T, int kD>
cudaError_t launch_gqa_for_group(int group, const dim3& grid, const void* q, const void* keys, const void* values,
                                 const int64_t* offsets, const int64_t* lengths, float scale, int num_splits,
                                 float* workspace, cudaStream_t stream) {
  const auto* qt = static_cast<const T*>(q);
  const auto* kt = static_cast<const T*>(keys);
  const auto* vt = static_cast<const T*>(values);
  switch (group) {
#define LOOM_GQA_CASE(G)                                                                                          \
  case G:                                                                                                         \
    varlen_decode_gqa_kernel<T, kD, G><<<grid, kWarps * 32, 0, stream>>>(qt, kt, vt, offsets, lengths, scale,      \
                                                                         num_splits, workspace);                  \
    return cudaGetLastError();
    LOOM_GQA_CASE(1)
    LOOM_GQA_CASE(2)
    LOOM_GQA_CASE(3)
    LOOM_GQA_CASE(4)
    LOOM_GQA_CASE(5)
    LOOM_GQA_CASE(6)
    LOOM_GQA_CASE(7)
    LOOM_GQA_CASE(8)
#undef LOOM_GQA_CASE
  }
  return cudaErrorInvalidValue;
}

template <class T>
cudaError_t launch_varlen(const void* q, const void* keys, const void* values, const int64_t* offsets,
                          const int64_t* lengths, int64_t num_heads, int64_t num_kv_heads, int64_t head_dim,
                          int64_t max_length, float scale, float* workspace, void* out, cudaStream_t stream) {
  if (head_dim % 32 != 0 || head_dim > 32 * kMaxElementsPerLane || num_heads % num_kv_heads != 0) {
    return cudaErrorInvalidValue;
  }
  const int num_splits = static_cast<int>((std::max<int64_t>(max_length, 1) + kChunkTokens - 1) / kChunkTokens);
  const int64_t group = num_heads / num_kv_heads;
  cudaError_t status = cudaErrorInvalidValue;
  bool done = false;
  if constexpr (sizeof(T) == 2) {
    if ((head_dim == 64 || head_dim == 128) && group <= 8 && aligned16(q) && aligned16(keys) && aligned16(values)) {
      const dim3 grid(static_cast<unsigned>(num_kv_heads), static_cast<unsigned>(num_splits));
      status = head_dim == 64 ? launch_gqa_for_group<T, 64>(static_cast<int>(group), grid, q, keys, values, offsets,
                                                            lengths, scale, num_splits, workspace, stream)
                              : launch_gqa_for_group<T, 128>(static_cast<int>(group), grid, q, keys, values, offsets,
                                                             lengths, scale, num_splits, workspace, stream);
      done = true;
    }
  }
  if (!done) {
    const dim3 grid(static_cast<unsigned>(num_heads), static_cast<unsigned>(num_splits));
    varlen_decode_split_kernel<T><<<grid, kWarps * 32, 0, stream>>>(
        static_cast<const T*>(q), static_cast<const T*>(keys), static_cast<const T*>(values), offsets, lengths,
        static_cast<int>(group), static_cast<int>(head_dim), scale, num_splits, workspace);
    status = cudaGetLastError();
  }
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
