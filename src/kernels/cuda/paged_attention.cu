// Paged per-head KV cache kernels (paged_attention.h): append of a decode token and split-K decode attention.
//
// Decode attention, per (row, split) block of 4 warps: a row's pages are cut into num_splits ranges; lanes take a
// token's 16-byte slice each (head_dim / 8 lanes per bf16 token), so a warp reads 32 / lanes-per-token tokens per
// load and keeps kUnroll loads of keys and values in flight per lane before using them. Scores are reduced over
// the lanes of a token with xor shuffles and folded into an online softmax (base-2 exponent, the scale times
// log2(e) folded into the query); the block's token slots are merged in shared memory and written as one partial
// (max, sum, unnormalised output) per query head, which the combine kernel merges over the splits. A block stages
// its split's page ids in shared memory (no dependent page-table load before each token load) and is cut to 128
// registers for groups up to 4, so 4 blocks fit an SM; paged_decode_occupancy reports the resident blocks, from
// which the host picks splits that fill the device in whole waves (kernels/paged_attention.h).
#include "kernels/cuda/paged_attention.h"

#include "kernels/cuda/decode_combine.cuh"

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace loom::kernels::cuda {

namespace {

constexpr int kWarps = 4;
constexpr int kThreads = kWarps * 32;
constexpr int kMaxGroup = 8;  // query heads one block serves; larger groups take several blocks (grid z)
constexpr int kUnroll = 4;    // warp-wide token loads in flight per lane
constexpr int kPageChunk = 128;  // page ids a block stages in shared memory at a time
// Blocks per SM the register budget is cut for: 4 (128 registers, no spills) up to a group of 4 query heads per KV
// head (Llama-3, Qwen3); larger groups keep more accumulators and take fewer blocks.
template <int G>
constexpr int min_blocks_per_sm() {
  return G <= 4 ? 4 : (G <= 6 ? 3 : 2);
}
constexpr float kLog2e = 1.4426950408889634f;

template <class T>
struct Vec16;

template <>
struct Vec16<float> {
  static constexpr int kSize = 4;
  __device__ __forceinline__ static void to_float(const uint4& raw, float* out) {
    const float4 f = *reinterpret_cast<const float4*>(&raw);
    out[0] = f.x;
    out[1] = f.y;
    out[2] = f.z;
    out[3] = f.w;
  }
};

template <>
struct Vec16<__nv_bfloat16> {
  static constexpr int kSize = 8;
  __device__ __forceinline__ static void to_float(const uint4& raw, float* out) {
    const __nv_bfloat162* h = reinterpret_cast<const __nv_bfloat162*>(&raw);
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      const float2 f = __bfloat1622float2(h[i]);
      out[2 * i] = f.x;
      out[2 * i + 1] = f.y;
    }
  }
};

template <>
struct Vec16<__half> {
  static constexpr int kSize = 8;
  __device__ __forceinline__ static void to_float(const uint4& raw, float* out) {
    const __half2* h = reinterpret_cast<const __half2*>(&raw);
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      const float2 f = __half22float2(h[i]);
      out[2 * i] = f.x;
      out[2 * i + 1] = f.y;
    }
  }
};

__device__ __forceinline__ uint4 load_16(const void* p) {
  return __ldg(reinterpret_cast<const uint4*>(p));
}

using detail::SplitWorkspace;

template <class T, int D, int G>
__global__ void __launch_bounds__(kThreads, min_blocks_per_sm<G>()) paged_decode_partial_kernel(PagedDecodeParams p) {
  using V = Vec16<T>;
  constexpr int N = V::kSize;    // elements per 16-byte slice
  constexpr int LPT = D / N;     // lanes per token
  constexpr int TPW = 32 / LPT;  // tokens per warp load
  constexpr int kSlots = kWarps * TPW;
  constexpr int kTokensPerStep = kSlots * kUnroll;
  static_assert(LPT >= 1 && LPT <= 32 && (LPT & (LPT - 1)) == 0, "head_dim / elements-per-16-bytes must be a power of two <= 32");

  const int b = blockIdx.x / p.num_kv_heads;
  const int kv = blockIdx.x % p.num_kv_heads;
  const int split = blockIdx.y;
  const int group = p.num_heads / p.num_kv_heads;
  const int g0 = blockIdx.z * G;
  const int gcount = min(G, group - g0);
  const int64_t first_head = static_cast<int64_t>(b) * p.num_heads + static_cast<int64_t>(kv) * group + g0;
  SplitWorkspace ws(p.workspace, static_cast<int64_t>(p.batch) * p.num_heads, p.num_splits, D);

  const int slot = p.slot_of[b];
  const int ps = p.layer.page_size;
  int length = 0;
  const int32_t* table = nullptr;
  if (slot >= 0) {
    const int64_t row = static_cast<int64_t>(slot) * p.num_kv_heads + kv;
    length = p.layer.lengths[row];
    table = p.layer.page_table + row * p.layer.max_pages_per_row;
  }
  const int pages = (length + ps - 1) / ps;
  const int pages_per_split = (pages + p.num_splits - 1) / p.num_splits;
  const int t_begin = min(split * pages_per_split * ps, length);
  const int t_end = min((split + 1) * pages_per_split * ps, length);

  const int warp = threadIdx.x / 32;
  const int lane = threadIdx.x % 32;
  const int token_slot = lane / LPT;
  const int sub = lane % LPT;

  float q[G][N];
  const T* q_base = static_cast<const T*>(p.q);
  const float q_scale = p.scale * kLog2e;
#pragma unroll
  for (int g = 0; g < G; ++g) {
    if (g < gcount) {
      V::to_float(load_16(q_base + (first_head + g) * D + sub * N), q[g]);
#pragma unroll
      for (int i = 0; i < N; ++i) q[g][i] *= q_scale;
    } else {
#pragma unroll
      for (int i = 0; i < N; ++i) q[g][i] = 0.0f;
    }
  }
  float m[G], l[G], acc[G][N];
#pragma unroll
  for (int g = 0; g < G; ++g) {
    m[g] = -INFINITY;
    l[g] = 0.0f;
#pragma unroll
    for (int i = 0; i < N; ++i) acc[g][i] = 0.0f;
  }

  const T* key_pool = static_cast<const T*>(p.layer.key_pool);
  const T* value_pool = static_cast<const T*>(p.layer.value_pool);
  // The split's page ids go to shared memory kPageChunk at a time, so a token's load does not wait on a load of
  // its page id. Every thread runs the same chunk and step loops (bounds are per block), so the barriers are safe.
  __shared__ int32_t shared_pages[kPageChunk];
  const int chunk_tokens = kPageChunk * ps;
  for (int c0 = t_begin; c0 < t_end; c0 += chunk_tokens) {
    const int c_end = min(c0 + chunk_tokens, t_end);
    const int first_page = c0 / ps;
    __syncthreads();  // the previous chunk's readers are done
    for (int i = threadIdx.x; i < kPageChunk && first_page + i <= (c_end - 1) / ps; i += kThreads) {
      shared_pages[i] = table[first_page + i];
    }
    __syncthreads();
    for (int t0 = c0; t0 < c_end; t0 += kTokensPerStep) {
      uint4 key_raw[kUnroll], value_raw[kUnroll];
      bool valid[kUnroll];
#pragma unroll
      for (int u = 0; u < kUnroll; ++u) {
        const int t = t0 + (u * kWarps + warp) * TPW + token_slot;
        valid[u] = t < c_end;
        if (valid[u]) {
          const int64_t offset =
              (static_cast<int64_t>(shared_pages[t / ps - first_page]) * ps + t % ps) * D + sub * N;
          key_raw[u] = load_16(key_pool + offset);
          value_raw[u] = load_16(value_pool + offset);
        } else {
          key_raw[u] = make_uint4(0, 0, 0, 0);
          value_raw[u] = make_uint4(0, 0, 0, 0);
        }
      }
      float s[kUnroll][G];
#pragma unroll
      for (int u = 0; u < kUnroll; ++u) {
        float k[N];
        V::to_float(key_raw[u], k);
#pragma unroll
        for (int g = 0; g < G; ++g) {
          float dot = 0.0f;
#pragma unroll
          for (int i = 0; i < N; ++i) dot = fmaf(q[g][i], k[i], dot);
#pragma unroll
          for (int offset = LPT / 2; offset > 0; offset >>= 1) dot += __shfl_xor_sync(0xffffffffu, dot, offset);
          s[u][g] = valid[u] ? dot : -INFINITY;
        }
      }
      // Online softmax: rescale by the step's new maximum, then fold the values in one token at a time (a value
      // slice is widened to fp32 only while it is used, which keeps the kernel at 4 blocks per SM).
      float step_max[G];
#pragma unroll
      for (int g = 0; g < G; ++g) {
        step_max[g] = m[g];
#pragma unroll
        for (int u = 0; u < kUnroll; ++u) step_max[g] = fmaxf(step_max[g], s[u][g]);
        if (step_max[g] == -INFINITY) continue;  // no valid token for this slot yet
        const float correction = exp2f(m[g] - step_max[g]);
        l[g] *= correction;
#pragma unroll
        for (int i = 0; i < N; ++i) acc[g][i] *= correction;
        m[g] = step_max[g];
      }
#pragma unroll
      for (int u = 0; u < kUnroll; ++u) {
        float v[N];
        V::to_float(value_raw[u], v);
#pragma unroll
        for (int g = 0; g < G; ++g) {
          if (step_max[g] == -INFINITY) continue;
          const float prob = exp2f(s[u][g] - step_max[g]);
          l[g] += prob;
#pragma unroll
          for (int i = 0; i < N; ++i) acc[g][i] = fmaf(prob, v[i], acc[g][i]);
        }
      }
    }
  }

  __shared__ float shared_max[kSlots][G];
  __shared__ float shared_sum[kSlots][G];
  __shared__ float shared_acc[kSlots][G][D];
  const int my_slot = warp * TPW + token_slot;
#pragma unroll
  for (int g = 0; g < G; ++g) {
    if (sub == 0) {
      shared_max[my_slot][g] = m[g];
      shared_sum[my_slot][g] = l[g];
    }
#pragma unroll
    for (int i = 0; i < N; ++i) shared_acc[my_slot][g][sub * N + i] = acc[g][i];
  }
  __syncthreads();
  for (int idx = threadIdx.x; idx < G * D; idx += kThreads) {
    const int g = idx / D;
    const int d = idx % D;
    if (g >= gcount) continue;
    float block_max = -INFINITY;
#pragma unroll
    for (int s = 0; s < kSlots; ++s) block_max = fmaxf(block_max, shared_max[s][g]);
    float block_sum = 0.0f, block_acc = 0.0f;
    if (block_max != -INFINITY) {
#pragma unroll
      for (int s = 0; s < kSlots; ++s) {
        const float w = exp2f(shared_max[s][g] - block_max);
        block_sum = fmaf(shared_sum[s][g], w, block_sum);
        block_acc = fmaf(shared_acc[s][g][d], w, block_acc);
      }
    }
    const int64_t partial = (first_head + g) * p.num_splits + split;
    ws.acc[partial * D + d] = block_acc;
    if (d == 0) {
      ws.max[partial] = block_max;
      ws.sum[partial] = block_sum;
    }
  }
}

template <class T, int D>
__global__ void paged_decode_combine_kernel(PagedDecodeParams p) {
  const SplitWorkspace ws(p.workspace, static_cast<int64_t>(p.batch) * p.num_heads, p.num_splits, D);
  detail::combine_splits(ws, blockIdx.x, p.num_splits, D, static_cast<T*>(p.out));
}

template <class T, int D>
__global__ void paged_append_kernel(PagedAppendParams p) {
  constexpr int N = Vec16<T>::kSize;
  constexpr int LPT = D / N;
  const int b = blockIdx.x;
  const int slot = p.slot_of[b];
  if (slot < 0) return;
  T* key_pool = static_cast<T*>(p.layer.key_pool);
  T* value_pool = static_cast<T*>(p.layer.value_pool);
  const T* keys = static_cast<const T*>(p.keys);
  const T* values = static_cast<const T*>(p.values);
  const int ps = p.layer.page_size;
  for (int idx = threadIdx.x; idx < p.num_kv_heads * LPT; idx += blockDim.x) {
    const int kv = idx / LPT;
    const int sub = idx % LPT;
    const int64_t row = static_cast<int64_t>(slot) * p.num_kv_heads + kv;
    const int position = p.layer.lengths[row];
    const int64_t page = p.layer.page_table[row * p.layer.max_pages_per_row + position / ps];
    const int64_t dst = (page * ps + position % ps) * D + sub * N;
    const int64_t src = (static_cast<int64_t>(b) * p.num_kv_heads + kv) * D + sub * N;
    *reinterpret_cast<uint4*>(key_pool + dst) = *reinterpret_cast<const uint4*>(keys + src);
    *reinterpret_cast<uint4*>(value_pool + dst) = *reinterpret_cast<const uint4*>(values + src);
  }
  __syncthreads();  // every thread has read its row's length before it grows
  for (int kv = threadIdx.x; kv < p.num_kv_heads; kv += blockDim.x) {
    p.layer.lengths[static_cast<int64_t>(slot) * p.num_kv_heads + kv] += 1;
  }
}

template <class T, int D, int G>
int resident_blocks_per_sm() {
  int blocks = 0;
  if (cudaOccupancyMaxActiveBlocksPerMultiprocessor(&blocks, paged_decode_partial_kernel<T, D, G>, kThreads, 0) !=
      cudaSuccess) {
    (void)cudaGetLastError();
    return 1;
  }
  return std::max(blocks, 1);
}

template <class T, int D>
int resident_for_group(int group) {
  switch (std::min(group, kMaxGroup)) {
    case 1: return resident_blocks_per_sm<T, D, 1>();
    case 2: return resident_blocks_per_sm<T, D, 2>();
    case 3: return resident_blocks_per_sm<T, D, 3>();
    case 4: return resident_blocks_per_sm<T, D, 4>();
    case 5: return resident_blocks_per_sm<T, D, 5>();
    case 6: return resident_blocks_per_sm<T, D, 6>();
    case 7: return resident_blocks_per_sm<T, D, 7>();
    default: return resident_blocks_per_sm<T, D, 8>();
  }
}

template <class T>
int resident_for_type(int64_t head_dim, int group) {
  switch (head_dim) {
    case 64: return resident_for_group<T, 64>(group);
    case 128: return resident_for_group<T, 128>(group);
    case 256:
      if constexpr (Vec16<T>::kSize == 8) return resident_for_group<T, 256>(group);
      break;
    default: break;
  }
  return 1;
}

template <class T, int D, int G>
void launch_partial(const PagedDecodeParams& p, dim3 grid, cudaStream_t stream) {
  paged_decode_partial_kernel<T, D, G><<<grid, kThreads, 0, stream>>>(p);
}

template <class T, int D>
cudaError_t decode_for(const PagedDecodeParams& p, cudaStream_t stream) {
  const int group = p.num_heads / p.num_kv_heads;
  const int blocks_z = (group + kMaxGroup - 1) / kMaxGroup;
  const dim3 grid(static_cast<unsigned>(p.batch * p.num_kv_heads), static_cast<unsigned>(p.num_splits),
                  static_cast<unsigned>(blocks_z));
  switch (std::min(group, kMaxGroup)) {
    case 1: launch_partial<T, D, 1>(p, grid, stream); break;
    case 2: launch_partial<T, D, 2>(p, grid, stream); break;
    case 3: launch_partial<T, D, 3>(p, grid, stream); break;
    case 4: launch_partial<T, D, 4>(p, grid, stream); break;
    case 5: launch_partial<T, D, 5>(p, grid, stream); break;
    case 6: launch_partial<T, D, 6>(p, grid, stream); break;
    case 7: launch_partial<T, D, 7>(p, grid, stream); break;
    default: launch_partial<T, D, 8>(p, grid, stream); break;
  }
  paged_decode_combine_kernel<T, D><<<static_cast<unsigned>(p.batch * p.num_heads), std::min(D, 128), 0, stream>>>(p);
  return cudaGetLastError();
}

template <class T>
cudaError_t decode_for_type(const PagedDecodeParams& p, cudaStream_t stream) {
  switch (p.head_dim) {
    case 64: return decode_for<T, 64>(p, stream);
    case 128: return decode_for<T, 128>(p, stream);
    case 256:
      if constexpr (Vec16<T>::kSize == 8) return decode_for<T, 256>(p, stream);
      break;
    default: break;
  }
  return cudaErrorInvalidValue;
}

template <class T>
cudaError_t append_for_type(const PagedAppendParams& p, cudaStream_t stream) {
  const int threads = 128;
  switch (p.head_dim) {
    case 64: paged_append_kernel<T, 64><<<p.batch, threads, 0, stream>>>(p); break;
    case 128: paged_append_kernel<T, 128><<<p.batch, threads, 0, stream>>>(p); break;
    case 256:
      if constexpr (Vec16<T>::kSize == 8) {
        paged_append_kernel<T, 256><<<p.batch, threads, 0, stream>>>(p);
        break;
      }
      return cudaErrorInvalidValue;
    default: return cudaErrorInvalidValue;
  }
  return cudaGetLastError();
}

}  // namespace

bool paged_attention_supported(ElementType type, int64_t head_dim) {
  if (head_dim == 64 || head_dim == 128) return true;
  return head_dim == 256 && type != ElementType::kFloat32;
}

PagedDecodeOccupancy paged_decode_occupancy(const PagedDecodeShape& shape) {
  PagedDecodeOccupancy occupancy;
  if (!paged_attention_supported(shape.type, shape.head_dim) || shape.group < 1) return occupancy;
  switch (shape.type) {
    case ElementType::kFloat32: occupancy.blocks_per_sm = resident_for_type<float>(shape.head_dim, shape.group); break;
    case ElementType::kBFloat16:
      occupancy.blocks_per_sm = resident_for_type<__nv_bfloat16>(shape.head_dim, shape.group);
      break;
    case ElementType::kFloat16: occupancy.blocks_per_sm = resident_for_type<__half>(shape.head_dim, shape.group); break;
  }
  occupancy.blocks_per_split = std::max<int64_t>(1, shape.batch * shape.num_kv_heads) *
                               ((shape.group + kMaxGroup - 1) / kMaxGroup);
  return occupancy;
}

int64_t paged_decode_workspace_floats(int64_t batch, int64_t num_heads, int64_t head_dim, int64_t num_splits) {
  return SplitWorkspace::floats(batch * num_heads, num_splits, head_dim);
}

cudaError_t paged_append(const PagedAppendParams& p, cudaStream_t stream) {
  if (p.batch <= 0) return cudaSuccess;
  if (!paged_attention_supported(p.type, p.head_dim) || p.num_kv_heads <= 0) return cudaErrorInvalidValue;
  switch (p.type) {
    case ElementType::kFloat32: return append_for_type<float>(p, stream);
    case ElementType::kBFloat16: return append_for_type<__nv_bfloat16>(p, stream);
    case ElementType::kFloat16: return append_for_type<__half>(p, stream);
  }
  return cudaErrorInvalidValue;
}

cudaError_t paged_decode_attention(const PagedDecodeParams& p, cudaStream_t stream) {
  if (p.batch <= 0) return cudaSuccess;
  if (!paged_attention_supported(p.type, p.head_dim) || p.num_kv_heads <= 0 || p.num_heads % p.num_kv_heads != 0 ||
      p.num_splits < 1 || p.num_splits > kMaxSplits) {
    return cudaErrorInvalidValue;
  }
  switch (p.type) {
    case ElementType::kFloat32: return decode_for_type<float>(p, stream);
    case ElementType::kBFloat16: return decode_for_type<__nv_bfloat16>(p, stream);
    case ElementType::kFloat16: return decode_for_type<__half>(p, stream);
  }
  return cudaErrorInvalidValue;
}

}  // namespace loom::kernels::cuda
