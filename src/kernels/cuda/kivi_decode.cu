// KIVI decode attention from packed codes (see kivi_decode.h). One block of 4 warps per (KV head, split of the
// tokens); a warp takes 32 tokens at a time:
//   scores  — lane i owns token t0 + i and dequantizes its key on the fly, channel by channel (its 2-, 4- or 8-bit
//             code from the channel's group, the group's scale and minimum broadcast to the lanes of the group), into
//             the dot products with every query head of the group (queries in shared memory);
//   softmax — online, base 2, per query head, reduced over the warp;
//   values  — lanes own head_dim / 32 channels each and walk the 32 tokens: each token's codes for those channels
//             (one value group), scale and minimum, times the token's probability.
// The warps' partial states merge in shared memory into one (max, sum, output) per query head and split, which
// combine_splits (decode_combine.cuh) merges over the splits.
#include "kernels/cuda/decode_combine.cuh"
#include "kernels/cuda/element_access.cuh"
#include "kernels/cuda/kivi_decode.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace loom::kernels::cuda {

namespace {

using detail::from_float;
using detail::SplitWorkspace;
using detail::to_float;
using detail::warp_max;
using detail::warp_sum;

constexpr int kWarps = 4;
constexpr int kThreads = 32 * kWarps;
constexpr float kLog2e = 1.4426950408889634f;

__device__ __forceinline__ int extract_code(const uint8_t* group, int index, int bits) {
  const int bit = index * bits;
  return (group[bit >> 3] >> (bit & 7)) & ((1 << bits) - 1);
}

template <class T, int D, int G>
__global__ void __launch_bounds__(kThreads) kivi_decode_partial_kernel(KiviDecodeParams p) {
  constexpr int kChannelsPerLane = D / 32;
  const int h = blockIdx.x;
  const int split = blockIdx.y;
  const int warp = threadIdx.x / 32;
  const int lane = threadIdx.x % 32;
  const int H = p.num_kv_heads;
  const int64_t total = p.total_tokens;
  const int64_t key_quant = p.key_quant_tokens, value_quant = p.value_quant_tokens;
  const int gs = p.group_size;
  const int key_group_bytes = gs * p.key_bits / 8;
  const int value_group_bytes = gs * p.value_bits / 8;
  const int value_groups = D / gs;

  __shared__ float shared_q[G][D];
  const T* q = static_cast<const T*>(p.q);
  for (int i = threadIdx.x; i < G * D; i += kThreads) {
    shared_q[i / D][i % D] = to_float(q[(static_cast<int64_t>(h) * G + i / D) * D + i % D]) * p.scale * kLog2e;
  }
  __syncthreads();

  const int64_t blocks = (total + 31) / 32;
  const int64_t per_split = (blocks + p.num_splits - 1) / p.num_splits;
  const int64_t first_block = split * per_split;
  const int64_t last_block = blocks < first_block + per_split ? blocks : first_block + per_split;

  const T* key_scales = static_cast<const T*>(p.key_scales);
  const T* key_mins = static_cast<const T*>(p.key_mins);
  const T* value_scales = static_cast<const T*>(p.value_scales);
  const T* value_mins = static_cast<const T*>(p.value_mins);
  const T* full_keys = static_cast<const T*>(p.full_keys);
  const T* full_values = static_cast<const T*>(p.full_values);
  const int64_t key_tail = total - key_quant, value_tail = total - value_quant;

  float m[G], l[G], acc[G][kChannelsPerLane];
#pragma unroll
  for (int g = 0; g < G; ++g) {
    m[g] = -INFINITY;
    l[g] = 0.0f;
#pragma unroll
    for (int k = 0; k < kChannelsPerLane; ++k) acc[g][k] = 0.0f;
  }
  const int c0 = lane * kChannelsPerLane;

  for (int64_t block = first_block + warp; block < last_block; block += kWarps) {
    const int64_t t0 = block * 32;
    const int64_t t = t0 + lane;
    float s[G];
#pragma unroll
    for (int g = 0; g < G; ++g) s[g] = 0.0f;
    if (t < total) {
      if (t < key_quant) {
        const int64_t tg = t / gs;
        const int pos = static_cast<int>(t % gs);
        const int64_t base = (tg * H + h) * D;
        const uint8_t* codes = p.key_codes + base * key_group_bytes;
        for (int j = 0; j < D; ++j) {
          const float k = static_cast<float>(extract_code(codes + j * key_group_bytes, pos, p.key_bits)) *
                              to_float(key_scales[base + j]) +
                          to_float(key_mins[base + j]);
#pragma unroll
          for (int g = 0; g < G; ++g) s[g] = fmaf(shared_q[g][j], k, s[g]);
        }
      } else {
        const T* row = full_keys + (static_cast<int64_t>(h) * key_tail + (t - key_quant)) * D;
        for (int j = 0; j < D; ++j) {
          const float k = to_float(row[j]);
#pragma unroll
          for (int g = 0; g < G; ++g) s[g] = fmaf(shared_q[g][j], k, s[g]);
        }
      }
    } else {
#pragma unroll
      for (int g = 0; g < G; ++g) s[g] = -INFINITY;
    }
    float prob[G];
#pragma unroll
    for (int g = 0; g < G; ++g) {
      const float block_max = warp_max(s[g]);
      const float m_new = fmaxf(m[g], block_max);
      const float correction = m_new == -INFINITY ? 1.0f : exp2f(m[g] - m_new);
      prob[g] = s[g] == -INFINITY ? 0.0f : exp2f(s[g] - m_new);
      l[g] = l[g] * correction + warp_sum(prob[g]);
#pragma unroll
      for (int k = 0; k < kChannelsPerLane; ++k) acc[g][k] *= correction;
      m[g] = m_new;
    }
    const int count = total - t0 < 32 ? static_cast<int>(total - t0) : 32;
    for (int i = 0; i < count; ++i) {
      const int64_t ti = t0 + i;
      float v[kChannelsPerLane];
      if (ti < value_quant) {
        const int group = c0 / gs;
        const int64_t entry = (ti * H + h) * value_groups + group;
        const uint8_t* codes = p.value_codes + entry * value_group_bytes;
        const float scale = to_float(value_scales[entry]), minimum = to_float(value_mins[entry]);
#pragma unroll
        for (int k = 0; k < kChannelsPerLane; ++k) {
          v[k] = static_cast<float>(extract_code(codes, c0 % gs + k, p.value_bits)) * scale + minimum;
        }
      } else {
        const T* row = full_values + (static_cast<int64_t>(h) * value_tail + (ti - value_quant)) * D + c0;
#pragma unroll
        for (int k = 0; k < kChannelsPerLane; ++k) v[k] = to_float(row[k]);
      }
#pragma unroll
      for (int g = 0; g < G; ++g) {
        const float pi = __shfl_sync(0xffffffffu, prob[g], i);
#pragma unroll
        for (int k = 0; k < kChannelsPerLane; ++k) acc[g][k] = fmaf(pi, v[k], acc[g][k]);
      }
    }
  }

  __shared__ float shared_max[kWarps][G];
  __shared__ float shared_sum[kWarps][G];
  __shared__ float shared_acc[kWarps][G][D];
#pragma unroll
  for (int g = 0; g < G; ++g) {
    if (lane == 0) {
      shared_max[warp][g] = m[g];
      shared_sum[warp][g] = l[g];
    }
#pragma unroll
    for (int k = 0; k < kChannelsPerLane; ++k) shared_acc[warp][g][c0 + k] = acc[g][k];
  }
  __syncthreads();
  SplitWorkspace ws(p.workspace, p.num_heads, p.num_splits, D);
  for (int idx = threadIdx.x; idx < G * D; idx += kThreads) {
    const int g = idx / D, d = idx % D;
    float block_max = -INFINITY;
#pragma unroll
    for (int w = 0; w < kWarps; ++w) block_max = fmaxf(block_max, shared_max[w][g]);
    float block_sum = 0.0f, block_acc = 0.0f;
    if (block_max != -INFINITY) {
#pragma unroll
      for (int w = 0; w < kWarps; ++w) {
        const float weight = exp2f(shared_max[w][g] - block_max);
        block_sum = fmaf(shared_sum[w][g], weight, block_sum);
        block_acc = fmaf(shared_acc[w][g][d], weight, block_acc);
      }
    }
    const int64_t row = (static_cast<int64_t>(h) * G + g) * p.num_splits + split;
    ws.acc[row * D + d] = block_acc;
    if (d == 0) {
      ws.max[row] = block_max;
      ws.sum[row] = block_sum;
    }
  }
}

template <class T, int D>
__global__ void kivi_decode_combine_kernel(KiviDecodeParams p) {
  const SplitWorkspace ws(p.workspace, p.num_heads, p.num_splits, D);
  detail::combine_splits(ws, blockIdx.x, p.num_splits, D, static_cast<T*>(p.out));
}

template <class T, int D>
cudaError_t launch(const KiviDecodeParams& p, cudaStream_t stream) {
  const dim3 grid(static_cast<unsigned>(p.num_kv_heads), static_cast<unsigned>(p.num_splits));
  switch (p.num_heads / p.num_kv_heads) {
    case 1: kivi_decode_partial_kernel<T, D, 1><<<grid, kThreads, 0, stream>>>(p); break;
    case 2: kivi_decode_partial_kernel<T, D, 2><<<grid, kThreads, 0, stream>>>(p); break;
    case 3: kivi_decode_partial_kernel<T, D, 3><<<grid, kThreads, 0, stream>>>(p); break;
    case 4: kivi_decode_partial_kernel<T, D, 4><<<grid, kThreads, 0, stream>>>(p); break;
    case 5: kivi_decode_partial_kernel<T, D, 5><<<grid, kThreads, 0, stream>>>(p); break;
    case 6: kivi_decode_partial_kernel<T, D, 6><<<grid, kThreads, 0, stream>>>(p); break;
    case 7: kivi_decode_partial_kernel<T, D, 7><<<grid, kThreads, 0, stream>>>(p); break;
    case 8: kivi_decode_partial_kernel<T, D, 8><<<grid, kThreads, 0, stream>>>(p); break;
    default: return cudaErrorInvalidValue;
  }
  kivi_decode_combine_kernel<T, D><<<static_cast<unsigned>(p.num_heads), D, 0, stream>>>(p);
  return cudaGetLastError();
}

template <class T>
cudaError_t launch_type(const KiviDecodeParams& p, cudaStream_t stream) {
  return p.head_dim == 64 ? launch<T, 64>(p, stream) : launch<T, 128>(p, stream);
}

}  // namespace

bool kivi_decode_supported(int64_t head_dim, int64_t group_size, int64_t key_bits, int64_t value_bits,
                           int64_t group) {
  const auto bits_ok = [](int64_t b) { return b == 2 || b == 4 || b == 8; };
  return (head_dim == 64 || head_dim == 128) && group_size > 0 && group_size % (head_dim / 32) == 0 &&
         head_dim % group_size == 0 && bits_ok(key_bits) && bits_ok(value_bits) && group >= 1 && group <= 8;
}

int64_t kivi_decode_workspace_floats(int64_t num_heads, int64_t head_dim, int64_t num_splits) {
  return SplitWorkspace::floats(num_heads, num_splits, head_dim);
}

cudaError_t kivi_decode_attention(const KiviDecodeParams& p, cudaStream_t stream) {
  if (p.num_kv_heads <= 0 || p.num_heads % p.num_kv_heads != 0 || p.num_splits < 1 || p.total_tokens <= 0 ||
      !kivi_decode_supported(p.head_dim, p.group_size, p.key_bits, p.value_bits, p.num_heads / p.num_kv_heads)) {
    return cudaErrorInvalidValue;
  }
  switch (p.type) {
    case ElementType::kFloat32: return launch_type<float>(p, stream);
    case ElementType::kBFloat16: return launch_type<__nv_bfloat16>(p, stream);
    case ElementType::kFloat16: return launch_type<__half>(p, stream);
  }
  return cudaErrorInvalidValue;
}

}  // namespace loom::kernels::cuda
