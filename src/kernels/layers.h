// Dense transformer layer ops, written to match transformers' dtype handling exactly (so bf16 results agree):
//   rms_norm:       variance in fp32, normalised input cast back to the input dtype, then multiplied by the weight.
//   fused_silu_mlp: down( silu(gate(x)) * up(x) ) with gate and up stacked in one weight [2 * inter, hidden] (one
//                   GEMM; the same products as two), every matmul in the input dtype.
// Shapes: x [..., hidden]; weights in nn.Linear layout [out, in].
#pragma once

#include <ATen/ATen.h>

namespace loom::kernels {

at::Tensor rms_norm(const at::Tensor& x, const at::Tensor& weight, double eps);

// Biases may be undefined tensors (no bias).
at::Tensor fused_silu_mlp(const at::Tensor& x, const at::Tensor& gate_up_weight, const at::Tensor& gate_up_bias,
                          const at::Tensor& down_weight, const at::Tensor& down_bias);

}  // namespace loom::kernels
