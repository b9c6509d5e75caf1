// The dense layer's elementwise kernels (layer_kernels.h). Each thread moves 8 consecutive elements with 16-byte
// loads and stores (two for fp32); math in fp32, rounded to the element type where transformers' eager ops round.
#include "kernels/cuda/layer_kernels.h"

#include "kernels/cuda/element_access.cuh"

#include <algorithm>

namespace loom::kernels::cuda {

namespace {

using detail::from_float;
using detail::to_float;

constexpr int kPack = 8;

template <class T>
__device__ __forceinline__ float rounded(float x) {
  return to_float(from_float<T>(x));
}

template <class T>
__device__ __forceinline__ void load8(const T* p, float* v) {
  constexpr int kVectors = sizeof(T) * kPack / 16;
  uint4 raw[kVectors];
#pragma unroll
  for (int i = 0; i < kVectors; ++i) raw[i] = reinterpret_cast<const uint4*>(p)[i];
  const T* e = reinterpret_cast<const T*>(raw);
#pragma unroll
  for (int i = 0; i < kPack; ++i) v[i] = to_float(e[i]);
}

template <class T>
__device__ __forceinline__ void store8(T* p, const float* v) {
  constexpr int kVectors = sizeof(T) * kPack / 16;
  uint4 raw[kVectors];
  T* e = reinterpret_cast<T*>(raw);
#pragma unroll
  for (int i = 0; i < kPack; ++i) e[i] = from_float<T>(v[i]);
#pragma unroll
  for (int i = 0; i < kVectors; ++i) reinterpret_cast<uint4*>(p)[i] = raw[i];
}

__device__ float block_sum(float x) {
  __shared__ float partial[32];
  x = detail::warp_sum(x);
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  if (lane == 0) partial[warp] = x;
  __syncthreads();
  const int warps = (blockDim.x + 31) / 32;
  x = lane < warps ? partial[lane] : 0.0f;
  return detail::warp_sum(x);
}

// One block per row. kAdd: hidden[row] += delta[row] (rounded) first, and the row read is hidden's.
template <class T, bool kAdd>
__global__ void rms_norm_kernel(const T* x, RowsView view, T* hidden, const T* delta, const T* weight, T* out,
                                int dim, float eps) {
  const int64_t r = blockIdx.x;
  const T* row = kAdd ? hidden + r * dim : x + (r / view.inner) * view.outer_stride + (r % view.inner) * view.inner_stride;
  float sum = 0.0f;
  for (int i = threadIdx.x * kPack; i < dim; i += blockDim.x * kPack) {
    float v[kPack];
    load8(row + i, v);
    if constexpr (kAdd) {
      float d[kPack];
      load8(delta + r * dim + i, d);
#pragma unroll
      for (int j = 0; j < kPack; ++j) v[j] = rounded<T>(v[j] + d[j]);
      store8(hidden + r * dim + i, v);
    }
#pragma unroll
    for (int j = 0; j < kPack; ++j) sum = fmaf(v[j], v[j], sum);
  }
  const float inverse = rsqrtf(block_sum(sum) / static_cast<float>(dim) + eps);
  for (int i = threadIdx.x * kPack; i < dim; i += blockDim.x * kPack) {
    float v[kPack], w[kPack];
    load8(row + i, v);  // kAdd: what this thread stored above
    load8(weight + i, w);
#pragma unroll
    for (int j = 0; j < kPack; ++j) v[j] = w[j] * rounded<T>(v[j] * inverse);
    store8(out + r * dim + i, v);
  }
}

template <class T>
__global__ void silu_mul_kernel(const T* gate_up, T* out, int64_t rows, int64_t inter) {
  const int64_t packs = inter / kPack;
  const int64_t total = rows * packs;
  for (int64_t idx = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; idx < total;
       idx += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t r = idx / packs, c = (idx % packs) * kPack;
    float g[kPack], u[kPack];
    load8(gate_up + r * 2 * inter + c, g);
    load8(gate_up + r * 2 * inter + inter + c, u);
#pragma unroll
    for (int j = 0; j < kPack; ++j) g[j] = rounded<T>(g[j] / (1.0f + expf(-g[j]))) * u[j];
    store8(out + r * inter + c, g);
  }
}

template <class T>
__global__ void rope_kernel(const T* x, Strided3 xs, const T* cos, const T* sin, Strided3 cs, T* out, int64_t a_count,
                            int64_t b_count, int dim) {
  const int half = dim / 2;
  const int packs = half / kPack;
  const int64_t total = a_count * b_count * packs;
  for (int64_t idx = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; idx < total;
       idx += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t ab = idx / packs;
    const int d = static_cast<int>(idx % packs) * kPack;
    const int64_t a = ab / b_count, b = ab % b_count;
    const T* xp = x + a * xs.stride_a + b * xs.stride_b;
    const int64_t c_offset = a * cs.stride_a + b * cs.stride_b;
    float x1[kPack], x2[kPack], c1[kPack], c2[kPack], s1[kPack], s2[kPack], o1[kPack], o2[kPack];
    load8(xp + d, x1);
    load8(xp + half + d, x2);
    load8(cos + c_offset + d, c1);
    load8(cos + c_offset + half + d, c2);
    load8(sin + c_offset + d, s1);
    load8(sin + c_offset + half + d, s2);
#pragma unroll
    for (int j = 0; j < kPack; ++j) {
      o1[j] = rounded<T>(x1[j] * c1[j]) + rounded<T>(-x2[j] * s1[j]);
      o2[j] = rounded<T>(x2[j] * c2[j]) + rounded<T>(x1[j] * s2[j]);
    }
    T* op = out + ab * dim;
    store8(op + d, o1);
    store8(op + half + d, o2);
  }
}

unsigned grid_for(int64_t work, int threads) {
  return static_cast<unsigned>(std::clamp<int64_t>((work + threads - 1) / threads, 1, 65536));
}

int norm_threads(int64_t dim) {
  const int64_t packs = (dim + kPack - 1) / kPack;
  return static_cast<int>(std::clamp<int64_t>((packs + 31) / 32 * 32, 32, 256));
}

template <class T>
cudaError_t rms_norm_for(const void* x, RowsView rows, void* hidden, const void* delta, const void* weight, void* out,
                         int64_t dim, float eps, cudaStream_t stream) {
  if (rows.rows <= 0) return cudaSuccess;
  const unsigned grid = static_cast<unsigned>(rows.rows);
  if (hidden != nullptr) {
    rms_norm_kernel<T, true><<<grid, norm_threads(dim), 0, stream>>>(
        nullptr, rows, static_cast<T*>(hidden), static_cast<const T*>(delta), static_cast<const T*>(weight),
        static_cast<T*>(out), static_cast<int>(dim), eps);
  } else {
    rms_norm_kernel<T, false><<<grid, norm_threads(dim), 0, stream>>>(
        static_cast<const T*>(x), rows, nullptr, nullptr, static_cast<const T*>(weight), static_cast<T*>(out),
        static_cast<int>(dim), eps);
  }
  return cudaGetLastError();
}

template <class Fn>
cudaError_t by_type(ElementType type, Fn&& fn) {
  switch (type) {
    case ElementType::kFloat32: return fn(float{});
    case ElementType::kBFloat16: return fn(__nv_bfloat16{});
    case ElementType::kFloat16: return fn(__half{});
  }
  return cudaErrorInvalidValue;
}

}  // namespace

bool layer_kernels_supported(ElementType type, int64_t dim) {
  (void)type;
  return dim > 0 && dim % (2 * kPack) == 0 && dim <= (int64_t{1} << 30);
}

cudaError_t rms_norm(const RmsNormParams& p, cudaStream_t stream) {
  if (!layer_kernels_supported(p.type, p.dim) || p.rows.rows > 0x7fffffff || p.rows.inner <= 0) {
    return cudaErrorInvalidValue;
  }
  return by_type(p.type, [&](auto tag) {
    return rms_norm_for<decltype(tag)>(p.x, p.rows, nullptr, nullptr, p.weight, p.out, p.dim, p.eps, stream);
  });
}

cudaError_t add_rms_norm(const AddRmsNormParams& p, cudaStream_t stream) {
  if (!layer_kernels_supported(p.type, p.dim) || p.rows > 0x7fffffff) return cudaErrorInvalidValue;
  RowsView view;
  view.rows = p.rows;
  return by_type(p.type, [&](auto tag) {
    return rms_norm_for<decltype(tag)>(nullptr, view, p.hidden, p.delta, p.weight, p.out, p.dim, p.eps, stream);
  });
}

cudaError_t silu_mul(const SiluMulParams& p, cudaStream_t stream) {
  if (!layer_kernels_supported(p.type, p.inter)) return cudaErrorInvalidValue;
  if (p.rows <= 0) return cudaSuccess;
  constexpr int kThreads = 256;
  return by_type(p.type, [&](auto tag) {
    using T = decltype(tag);
    silu_mul_kernel<T><<<grid_for(p.rows * (p.inter / kPack), kThreads), kThreads, 0, stream>>>(
        static_cast<const T*>(p.gate_up), static_cast<T*>(p.out), p.rows, p.inter);
    return cudaGetLastError();
  });
}

cudaError_t rope(const RopeParams& p, cudaStream_t stream) {
  if (!layer_kernels_supported(p.type, p.dim)) return cudaErrorInvalidValue;
  if (p.a <= 0 || p.b <= 0) return cudaSuccess;
  constexpr int kThreads = 256;
  return by_type(p.type, [&](auto tag) {
    using T = decltype(tag);
    rope_kernel<T><<<grid_for(p.a * p.b * (p.dim / 2 / kPack), kThreads), kThreads, 0, stream>>>(
        static_cast<const T*>(p.x), p.x_strides, static_cast<const T*>(p.cos), static_cast<const T*>(p.sin),
        p.cos_sin_strides, static_cast<T*>(p.out), p.a, p.b, static_cast<int>(p.dim));
    return cudaGetLastError();
  });
}

}  // namespace loom::kernels::cuda
