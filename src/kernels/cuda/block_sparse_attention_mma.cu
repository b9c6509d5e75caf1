// Tensor-core block-sparse causal prefill attention (see block_sparse_attention_mma.h).
//
// Fragment layouts of mma.sync.m16n8k16 (PTX ISA, "Matrix fragments for mma.m16n8k16"), g = lane / 4, t = lane % 4:
//   A (16x16, row-major): reg0 = (row g, cols 2t, 2t+1), reg1 = (row g+8, cols 2t..), reg2 = (row g, cols 2t+8..),
//                         reg3 = (row g+8, cols 2t+8..); the lower 16 bits hold the lower column.
//   B (16x8, k x n):      reg0 = (k 2t, 2t+1; n g), reg1 = (k 2t+8, 2t+9; n g).
//   C (16x8, fp32):       c0, c1 = (row g, cols 2t, 2t+1), c2, c3 = (row g+8, cols 2t, 2t+1).
// S = Q K^T takes B[k][n] = K[key n][dim k]: ldmatrix of the row-major key tile gives it directly.
// O += P V takes A from S's accumulators (the C layout of two adjacent n-tiles is the A layout of one k-step) and
// B[k][n] = V[key k][dim n]: ldmatrix .trans of the row-major value tile.
#include "kernels/cuda/block_sparse_attention_mma.h"
#include "kernels/cuda/element_access.cuh"

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cmath>
#include <cstdint>
#include <type_traits>

namespace loom::kernels::cuda {

namespace {

constexpr int kWarps = 4;
constexpr int kRows = 16 * kWarps;  // query positions per thread block
constexpr int kKeys = 64;           // keys per shared-memory tile
constexpr int kPad = 8;             // elements of padding per shared row: conflict-free 32-bit fragment loads

template <class T>
__device__ __forceinline__ uint32_t pack_pair(float lo, float hi);
template <>
__device__ __forceinline__ uint32_t pack_pair<__nv_bfloat16>(float lo, float hi) {
  __nv_bfloat162 v = __floats2bfloat162_rn(lo, hi);
  return *reinterpret_cast<uint32_t*>(&v);
}
template <>
__device__ __forceinline__ uint32_t pack_pair<__half>(float lo, float hi) {
  __half2 v = __floats2half2_rn(lo, hi);
  return *reinterpret_cast<uint32_t*>(&v);
}

template <class T>
__device__ __forceinline__ void mma_16x8x16(float (&c)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  if constexpr (std::is_same_v<T, __nv_bfloat16>) {
    asm volatile(
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
        "{%0,%1,%2,%3};\n"
        : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
  } else {
    asm volatile(
        "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
        "{%0,%1,%2,%3};\n"
        : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
  }
#else
  __trap();  // the launcher only runs this kernel on compute capability 8.0+
#endif
}

__device__ __forceinline__ uint32_t load_u32(const void* p) { return *reinterpret_cast<const uint32_t*>(p); }

__device__ __forceinline__ uint32_t shared_address(const void* p) {
  return static_cast<uint32_t>(__cvta_generic_to_shared(p));
}

// 16 bytes global -> shared, asynchronously; zeros when !valid (src-size 0 reads nothing).
__device__ __forceinline__ void copy_async_16(void* dst, const void* src, bool valid) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(shared_address(dst)), "l"(src),
               "r"(valid ? 16 : 0));
#endif
}
__device__ __forceinline__ void copy_async_commit() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  asm volatile("cp.async.commit_group;\n" ::);
#endif
}
template <int N>
__device__ __forceinline__ void copy_async_wait() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  asm volatile("cp.async.wait_group %0;\n" ::"n"(N));
#endif
}

// ldmatrix .x4: lane l supplies the address of row l % 8 of 8x8 matrix l / 8; r[i] receives matrix i's fragment
// (row lane / 4, columns 2 (lane % 4), +1), or with .trans the transposed one (rows 2 (lane % 4), +1; column
// lane / 4).
__device__ __forceinline__ void load_matrix_x4(uint32_t (&r)[4], const void* row_address) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(shared_address(row_address)));
#endif
}
__device__ __forceinline__ void load_matrix_x4_trans(uint32_t (&r)[4], const void* row_address) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(shared_address(row_address)));
#endif
}

// The key tiles of one thread block in order: tiles of kKeys tokens of every active key block up to the last row.
struct TileCursor {
  int64_t block;  // key block; > qb: done
  int64_t begin;  // first key of the tile
};

__device__ __forceinline__ TileCursor first_active(const uint8_t* mask_row, int64_t from_block, int64_t qb,
                                                   int block_size) {
  int64_t kb = from_block;
  while (kb <= qb && !mask_row[kb]) ++kb;
  return {kb, kb * block_size};
}

__device__ __forceinline__ TileCursor next_tile(TileCursor c, const uint8_t* mask_row, int64_t qb, int block_size,
                                                int64_t last_position) {
  const int64_t block_end = min((c.block + 1) * block_size, last_position + 1);
  if (c.begin + kKeys < block_end) return {c.block, c.begin + kKeys};
  return first_active(mask_row, c.block + 1, qb, block_size);
}

// Grid (num_heads, number of 64-position tiles); tiles run from the last (most keys) to the first. Dynamic shared
// memory: two stages of (keys, values), each [64][D + 8], filled by cp.async one tile ahead of the compute.
template <class T, int D>
__global__ void __launch_bounds__(kWarps * 32, 3)
    block_sparse_mma_kernel(const T* __restrict__ q, const T* __restrict__ keys, const T* __restrict__ values,
                            int group, int64_t t_q, int64_t q_start, int64_t key_stride,
                            const uint8_t* __restrict__ block_mask, int block_size, int num_blocks, float scale_log2,
                            int64_t first_tile, T* __restrict__ out) {
  constexpr int kRowStride = D + kPad;  // elements per shared row
  constexpr int kChunks = D / 8;        // 16-byte chunks per row
  constexpr int kTileElements = kKeys * kRowStride;
  extern __shared__ __align__(16) unsigned char shared_bytes[];
  T* shared = reinterpret_cast<T*>(shared_bytes);  // stage s: keys at 2 s, values at 2 s + 1 (x kTileElements)

  const int head = blockIdx.x;
  const int64_t tile = first_tile + (gridDim.y - 1 - blockIdx.y);
  const int64_t tile_begin = tile * kRows;
  const int64_t row_begin = max(tile_begin, q_start);
  const int64_t row_end = min(tile_begin + kRows, q_start + t_q);
  const int64_t last_position = row_end - 1;
  const int64_t qb = tile_begin / block_size;
  const int warp = threadIdx.x / 32;
  const int lane = threadIdx.x % 32;
  const int g = lane / 4;
  const int t = lane % 4;
  const int64_t warp_first = tile_begin + warp * 16;  // position of the warp's first row
  const bool warp_active = warp_first + 15 >= row_begin && warp_first <= last_position;

  // Query tile through shared memory (stage 0's keys) into A fragments; rows outside the chunk are zeros.
  for (int idx = threadIdx.x; idx < kRows * kChunks; idx += blockDim.x) {
    const int r = idx / kChunks;
    const int c = (idx % kChunks) * 8;
    const int64_t position = tile_begin + r;
    uint4 v = make_uint4(0, 0, 0, 0);
    if (position >= row_begin && position <= last_position) {
      v = *reinterpret_cast<const uint4*>(q + (static_cast<int64_t>(head) * t_q + (position - q_start)) * D + c);
    }
    *reinterpret_cast<uint4*>(shared + r * kRowStride + c) = v;
  }
  __syncthreads();
  uint32_t qa[D / 16][4];
  {
    const T* base = shared + (warp * 16 + g) * kRowStride + 2 * t;
#pragma unroll
    for (int ks = 0; ks < D / 16; ++ks) {
      qa[ks][0] = load_u32(base + ks * 16);
      qa[ks][1] = load_u32(base + 8 * kRowStride + ks * 16);
      qa[ks][2] = load_u32(base + ks * 16 + 8);
      qa[ks][3] = load_u32(base + 8 * kRowStride + ks * 16 + 8);
    }
  }
  __syncthreads();

  float o[D / 8][4];
#pragma unroll
  for (int n = 0; n < D / 8; ++n) o[n][0] = o[n][1] = o[n][2] = o[n][3] = 0.0f;
  float row_max[2] = {-INFINITY, -INFINITY};
  float row_sum[2] = {0.0f, 0.0f};  // this lane's part of the row sums (its 2t, 2t+1 columns)

  const int kv = head / group;
  const T* head_keys = keys + static_cast<int64_t>(kv) * key_stride * D;
  const T* head_values = values + static_cast<int64_t>(kv) * key_stride * D;
  const uint8_t* mask_row = block_mask + (static_cast<int64_t>(head) * num_blocks + qb) * num_blocks;

  auto load_tile = [&](const TileCursor& c, int stage) {
    T* key_tile = shared + (2 * stage) * kTileElements;
    T* value_tile = key_tile + kTileElements;
    for (int idx = threadIdx.x; idx < kKeys * kChunks; idx += blockDim.x) {
      const int r = idx / kChunks;
      const int col = (idx % kChunks) * 8;
      const int64_t key = c.begin + r;
      const bool valid = key <= last_position;
      const int64_t offset = (valid ? key : 0) * D + col;
      copy_async_16(key_tile + r * kRowStride + col, head_keys + offset, valid);
      copy_async_16(value_tile + r * kRowStride + col, head_values + offset, valid);
    }
    copy_async_commit();
  };

  TileCursor current = first_active(mask_row, 0, qb, block_size);
  int stage = 0;
  if (current.block <= qb) load_tile(current, 0);
  while (current.block <= qb) {
    const TileCursor next = next_tile(current, mask_row, qb, block_size, last_position);
    if (next.block <= qb) {
      load_tile(next, stage ^ 1);
      copy_async_wait<1>();
    } else {
      copy_async_wait<0>();
    }
    __syncthreads();
    const int64_t key_begin = current.begin;
    if (warp_active && key_begin <= warp_first + 15) {
      const T* key_tile = shared + (2 * stage) * kTileElements;
      const T* value_tile = key_tile + kTileElements;
      float s[kKeys / 8][4];
#pragma unroll
      for (int n = 0; n < kKeys / 8; ++n) s[n][0] = s[n][1] = s[n][2] = s[n][3] = 0.0f;
      // S = Q K^T: matrices (keys n*8.., dims ks*16..), (n*8.., ks*16+8..), ((n+1)*8.., ks*16..), ((n+1)*8.., +8).
      const int matrix = lane / 8;
      const T* key_row = key_tile + ((matrix / 2) * 8 + lane % 8) * kRowStride + (matrix % 2) * 8;
#pragma unroll
      for (int ks = 0; ks < D / 16; ++ks) {
#pragma unroll
        for (int n = 0; n < kKeys / 8; n += 2) {
          uint32_t b[4];
          load_matrix_x4(b, key_row + n * 8 * kRowStride + ks * 16);
          mma_16x8x16<T>(s[n], qa[ks], b[0], b[1]);
          mma_16x8x16<T>(s[n + 1], qa[ks], b[2], b[3]);
        }
      }
      // Scale into log2 units; causal mask where the tile reaches past the warp's first row.
      const bool causal_edge = key_begin + kKeys - 1 > warp_first;
      float tile_max[2] = {-INFINITY, -INFINITY};
#pragma unroll
      for (int n = 0; n < kKeys / 8; ++n) {
#pragma unroll
        for (int e = 0; e < 4; ++e) {
          float v = s[n][e] * scale_log2;
          if (causal_edge) {
            const int64_t row = warp_first + g + (e >= 2 ? 8 : 0);
            const int64_t key = key_begin + n * 8 + 2 * t + (e & 1);
            if (key > row) v = -INFINITY;
          }
          s[n][e] = v;
          tile_max[e >> 1] = fmaxf(tile_max[e >> 1], v);
        }
      }
      float alpha[2];
      float shift[2];
#pragma unroll
      for (int i = 0; i < 2; ++i) {
        tile_max[i] = fmaxf(tile_max[i], __shfl_xor_sync(0xffffffffu, tile_max[i], 1));
        tile_max[i] = fmaxf(tile_max[i], __shfl_xor_sync(0xffffffffu, tile_max[i], 2));
        const float m_new = fmaxf(row_max[i], tile_max[i]);
        // A row with no visible key yet keeps m = -inf, sum 0 and output 0.
        alpha[i] = m_new == -INFINITY ? 1.0f : exp2f(row_max[i] - m_new);
        shift[i] = m_new == -INFINITY ? 0.0f : m_new;
        row_max[i] = m_new;
      }
      float tile_sum[2] = {0.0f, 0.0f};
#pragma unroll
      for (int n = 0; n < kKeys / 8; ++n) {
#pragma unroll
        for (int e = 0; e < 4; ++e) {
          const float p = exp2f(s[n][e] - shift[e >> 1]);
          s[n][e] = p;
          tile_sum[e >> 1] += p;
        }
      }
#pragma unroll
      for (int i = 0; i < 2; ++i) row_sum[i] = row_sum[i] * alpha[i] + tile_sum[i];
#pragma unroll
      for (int n = 0; n < D / 8; ++n) {
        o[n][0] *= alpha[0];
        o[n][1] *= alpha[0];
        o[n][2] *= alpha[1];
        o[n][3] *= alpha[1];
      }
      // O += P V: transposed matrices (keys kk*16.., dims n*8..), (kk*16+8.., n*8..), (kk*16.., (n+1)*8..), (+8, +8).
      const T* value_row = value_tile + ((matrix % 2) * 8 + lane % 8) * kRowStride + (matrix / 2) * 8;
#pragma unroll
      for (int kk = 0; kk < kKeys / 16; ++kk) {
        const uint32_t pa[4] = {pack_pair<T>(s[2 * kk][0], s[2 * kk][1]), pack_pair<T>(s[2 * kk][2], s[2 * kk][3]),
                                pack_pair<T>(s[2 * kk + 1][0], s[2 * kk + 1][1]),
                                pack_pair<T>(s[2 * kk + 1][2], s[2 * kk + 1][3])};
#pragma unroll
        for (int n = 0; n < D / 8; n += 2) {
          uint32_t b[4];
          load_matrix_x4_trans(b, value_row + kk * 16 * kRowStride + n * 8);
          mma_16x8x16<T>(o[n], pa, b[0], b[1]);
          mma_16x8x16<T>(o[n + 1], pa, b[2], b[3]);
        }
      }
    }
    __syncthreads();  // the stage just read is refilled by the next iteration's prefetch
    current = next;
    stage ^= 1;
  }

  if (!warp_active) return;
  float inv[2];
#pragma unroll
  for (int i = 0; i < 2; ++i) {
    float total = row_sum[i];
    total += __shfl_xor_sync(0xffffffffu, total, 1);
    total += __shfl_xor_sync(0xffffffffu, total, 2);
    inv[i] = total > 0.0f ? 1.0f / total : 0.0f;
  }
#pragma unroll
  for (int i = 0; i < 2; ++i) {
    const int64_t position = warp_first + g + 8 * i;
    if (position < row_begin || position > last_position) continue;
    T* row = out + (static_cast<int64_t>(head) * t_q + (position - q_start)) * D + 2 * t;
#pragma unroll
    for (int n = 0; n < D / 8; ++n) {
      *reinterpret_cast<uint32_t*>(row + n * 8) = pack_pair<T>(o[n][2 * i] * inv[i], o[n][2 * i + 1] * inv[i]);
    }
  }
}

template <class T, int D>
cudaError_t launch(const BlockSparseAttentionParams& p, cudaStream_t stream) {
  const int64_t num_heads = p.num_heads, t_q = p.t_q, q_start = p.q_start, block_size = p.block_size;
  const int64_t total_len = p.total_len;
  const int64_t num_blocks = (total_len + block_size - 1) / block_size;
  const int64_t first_tile = q_start / kRows;
  const int64_t last_tile = (q_start + t_q - 1) / kRows;
  const dim3 grid(static_cast<unsigned>(num_heads), static_cast<unsigned>(last_tile - first_tile + 1));
  constexpr float kLog2e = 1.4426950408889634f;
  constexpr int kSharedBytes = 4 * kKeys * (D + kPad) * static_cast<int>(sizeof(T));  // 2 stages x (keys, values)
  const cudaError_t status = cudaFuncSetAttribute(block_sparse_mma_kernel<T, D>,
                                                  cudaFuncAttributeMaxDynamicSharedMemorySize, kSharedBytes);
  if (status != cudaSuccess) return status;
  block_sparse_mma_kernel<T, D><<<grid, kWarps * 32, kSharedBytes, stream>>>(
      static_cast<const T*>(p.q), static_cast<const T*>(p.keys), static_cast<const T*>(p.values),
      static_cast<int>(num_heads / p.num_kv_heads), t_q, q_start, p.key_stride, p.block_mask,
      static_cast<int>(block_size), static_cast<int>(num_blocks), p.scale * kLog2e, first_tile,
      static_cast<T*>(p.out));
  return cudaGetLastError();
}

template <class T>
cudaError_t launch_for_dim(const BlockSparseAttentionParams& p, cudaStream_t stream) {
  if (p.head_dim == 64) return launch<T, 64>(p, stream);
  return launch<T, 128>(p, stream);
}

}  // namespace

bool block_sparse_mma_shape(ElementType type, int64_t head_dim, int64_t block_size) {
  return type != ElementType::kFloat32 && (head_dim == 64 || head_dim == 128) && block_size > 0 &&
         block_size % kRows == 0;
}

bool block_sparse_mma_supported(const BlockSparseAttentionParams& p) {
  using detail::aligned16;
  if (!block_sparse_mma_shape(p.type, p.head_dim, p.block_size)) return false;
  if (!aligned16(p.q) || !aligned16(p.keys) || !aligned16(p.values) || !aligned16(p.out)) return false;
  int device = 0;
  int major = 0;
  if (cudaGetDevice(&device) != cudaSuccess ||
      cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device) != cudaSuccess) {
    return false;
  }
  return major >= 8;
}

cudaError_t block_sparse_attention_mma(const BlockSparseAttentionParams& p, cudaStream_t stream) {
  if (p.t_q <= 0 || p.num_kv_heads <= 0 || p.num_heads % p.num_kv_heads != 0 || p.q_start < 0 ||
      p.q_start + p.t_q > p.total_len || p.total_len > p.key_stride) {
    return cudaErrorInvalidValue;
  }
  if (p.type == ElementType::kBFloat16) return launch_for_dim<__nv_bfloat16>(p, stream);
  return launch_for_dim<__half>(p, stream);
}

}  // namespace loom::kernels::cuda
