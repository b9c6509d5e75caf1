// Rotary position embedding ops, computed exactly as transformers does: angles = positions (fp32) x inv_freq
// (fp32), emb = cat(angles, angles), cos/sin scaled by the attention factor in fp32 then cast to the compute dtype;
// x_rot = x * cos + rotate_half(x) * sin in the compute dtype (on CUDA one fused kernel for 3-d x,
// kernels/cuda/layer_kernels.h, rounding at the same places).
#pragma once

#include <ATen/ATen.h>

#include <utility>

namespace loom::kernels {

// cos, sin of shape [length, 2 * inv_freq.size(0)] for positions start .. start+length-1.
std::pair<at::Tensor, at::Tensor> rope_cos_sin(const at::Tensor& inv_freq, int64_t start, int64_t length,
                                               double attention_scaling, at::ScalarType dtype);

// x: [..., length, head_dim]; cos/sin: [length, head_dim].
at::Tensor apply_rope(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin);

}  // namespace loom::kernels
