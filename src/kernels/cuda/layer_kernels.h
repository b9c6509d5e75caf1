// CUDA kernels of the dense layer's elementwise ops, each one pass over memory where libtorch takes several
// (src/kernels/layers.h and rope.h dispatch to them for CUDA tensors). Raw pointers, no libtorch types: this header
// and layer_kernels.cu build with nvcc alone. Every result is rounded exactly where transformers' eager code rounds
// (fp32 math, the element type after each op it runs), so they agree with the libtorch path bit for bit except for
// the summation order of the RMS norm's mean.
//   rms_norm:     out[r] = weight * T(x[r] * rsqrt(mean(x[r]^2) + eps));  x rows may be strided (RowsView).
//   add_rms_norm: hidden[r] = T(hidden[r] + delta[r]) in place, then out[r] = rms_norm(hidden[r]).
//   silu_mul:     out[r] = T(T(silu(gate_up[r, :inter])) * gate_up[r, inter:]).
//   rope:         out = T(T(x * cos) + T(rotate_half(x) * sin)), x [A, B, dim] strided, cos/sin broadcast over A or B
//                 (stride 0), out contiguous [A, B, dim].
// Element counts along the last dimension must be multiples of 8 and every pointer 16-byte aligned
// (layer_kernels_supported); callers fall back to libtorch otherwise.
#pragma once

#include "kernels/cuda/accel_kernels.h"

#include <cuda_runtime_api.h>

#include <cstdint>

namespace loom::kernels::cuda {

// Row r of a strided [outer, inner, dim] view starts at (r / inner) * outer_stride + (r % inner) * inner_stride.
struct RowsView {
  int64_t rows = 0;
  int64_t inner = 1;
  int64_t outer_stride = 0;
  int64_t inner_stride = 0;
};

// A [A, B, dim] operand: element (a, b, d) at a * stride_a + b * stride_b + d.
struct Strided3 {
  int64_t stride_a = 0;
  int64_t stride_b = 0;
};

bool layer_kernels_supported(ElementType type, int64_t dim);

cudaError_t rms_norm(ElementType type, const void* x, RowsView rows, const void* weight, void* out, int64_t dim,
                     float eps, cudaStream_t stream);
cudaError_t add_rms_norm(ElementType type, void* hidden, const void* delta, const void* weight, void* out,
                         int64_t rows, int64_t dim, float eps, cudaStream_t stream);
cudaError_t silu_mul(ElementType type, const void* gate_up, void* out, int64_t rows, int64_t inter,
                     cudaStream_t stream);
cudaError_t rope(ElementType type, const void* x, Strided3 x_strides, const void* cos, const void* sin,
                 Strided3 cos_sin_strides, void* out, int64_t a, int64_t b, int64_t dim, cudaStream_t stream);

}  // namespace loom::kernels::cuda
