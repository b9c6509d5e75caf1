// Dense transformer layer ops, written to match transformers' dtype handling exactly (so bf16 results agree):
//   rms_norm:       variance in fp32, normalised input cast back to the input dtype, then multiplied by the weight.
//   add_rms_norm:   hidden += delta in place (rounded to hidden's dtype, as `hidden = hidden + delta`), then
//                   rms_norm(hidden): the residual add and the next norm in one pass on CUDA.
//   fused_silu_mlp: down( silu(gate(x)) * up(x) ) with gate and up stacked in one weight [2 * inter, hidden] (one
//                   GEMM; the same products as two), every matmul in the input dtype; long inputs run in slices of
//                   kMlpSliceRows rows so the [rows, 2 * inter] intermediate stays bounded (a 128K-token prompt
//                   in one chunk would otherwise need 7.5 GiB for it in bf16 at Llama-3.1-8B's shape).
// On CUDA the elementwise parts run as fused kernels (kernels/cuda/layer_kernels.h) where their shapes allow,
// libtorch's ops otherwise; both round at the same places.
// Shapes: x [..., hidden]; weights in nn.Linear layout [out, in].
#pragma once

#include <ATen/ATen.h>

namespace loom::kernels {

constexpr int64_t kMlpSliceRows = 16384;

at::Tensor rms_norm(const at::Tensor& x, const at::Tensor& weight, double eps);

// hidden must be contiguous; it is updated in place.
at::Tensor add_rms_norm(at::Tensor& hidden, const at::Tensor& delta, const at::Tensor& weight, double eps);

// gate_up [..., 2 * inter] (gate columns, then up columns) -> act(gate) * up [..., inter], act silu or, when
// gelu_tanh, gelu(approximate="tanh"); the fused kernel on CUDA where it applies. The MLPs' activation.
at::Tensor gated_activation(const at::Tensor& gate_up, bool gelu_tanh);

// Biases may be undefined tensors (no bias).
at::Tensor fused_silu_mlp(const at::Tensor& x, const at::Tensor& gate_up_weight, const at::Tensor& gate_up_bias,
                          const at::Tensor& down_weight, const at::Tensor& down_bias);
// The same with gelu(gate, approximate="tanh") in place of silu when gelu_tanh (Gemma's gelu_pytorch_tanh).
at::Tensor fused_gated_mlp(const at::Tensor& x, const at::Tensor& gate_up_weight, const at::Tensor& gate_up_bias,
                           const at::Tensor& down_weight, const at::Tensor& down_bias, bool gelu_tanh);

}  // namespace loom::kernels
