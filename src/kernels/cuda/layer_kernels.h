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
// Element counts along the last dimension must be multiples of 16, row strides multiples of 8 and every pointer
// 16-byte aligned (layer_kernels_supported checks the count); callers fall back to libtorch otherwise.
// Each op takes one Params struct and a stream; T is `type`, shared by every pointer of a call (device memory).
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

struct RmsNormParams {
  ElementType type = ElementType::kBFloat16;
  const void* x = nullptr;       // [rows.rows, dim] rows of a strided view (RowsView), last dim contiguous
  RowsView rows;                 // strides in elements, multiples of 8
  const void* weight = nullptr;  // [dim]
  void* out = nullptr;           // [rows.rows, dim], contiguous
  int64_t dim = 0;               // layer_kernels_supported(type, dim)
  float eps = 0.0f;              // added to the mean square (the model's rms_norm_eps)
};

struct AddRmsNormParams {
  ElementType type = ElementType::kBFloat16;
  void* hidden = nullptr;        // [rows, dim], contiguous; updated in place to hidden + delta
  const void* delta = nullptr;   // [rows, dim], contiguous
  const void* weight = nullptr;  // [dim]
  void* out = nullptr;           // [rows, dim], contiguous: rms_norm of the updated hidden
  int64_t rows = 0;
  int64_t dim = 0;               // layer_kernels_supported(type, dim)
  float eps = 0.0f;
};

struct SiluMulParams {
  ElementType type = ElementType::kBFloat16;
  const void* gate_up = nullptr;  // [rows, 2 * inter], contiguous: gate then up
  void* out = nullptr;            // [rows, inter], contiguous
  int64_t rows = 0;
  int64_t inter = 0;              // intermediate size, layer_kernels_supported(type, inter)
};

struct RopeParams {
  ElementType type = ElementType::kBFloat16;
  const void* x = nullptr;    // [a, b, dim] with x_strides (elements, multiples of 8), last dim contiguous
  Strided3 x_strides;
  const void* cos = nullptr;  // [a, b, dim] with cos_sin_strides (0 along a broadcast dimension), last dim contiguous
  const void* sin = nullptr;  // like cos, same strides
  Strided3 cos_sin_strides;
  void* out = nullptr;        // [a, b, dim], contiguous
  int64_t a = 0;
  int64_t b = 0;
  int64_t dim = 0;            // rotary dimension (= head_dim), layer_kernels_supported(type, dim)
};

bool layer_kernels_supported(ElementType type, int64_t dim);

cudaError_t rms_norm(const RmsNormParams& params, cudaStream_t stream);
cudaError_t add_rms_norm(const AddRmsNormParams& params, cudaStream_t stream);
cudaError_t silu_mul(const SiluMulParams& params, cudaStream_t stream);
cudaError_t rope(const RopeParams& params, cudaStream_t stream);

}  // namespace loom::kernels::cuda
