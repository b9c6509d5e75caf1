#include "kernels/layers.h"

#include "common/error.h"

#ifdef LOOM_ACCEL_TORCH_CUDA
#include "kernels/cuda/torch_accel_adapter.h"
#endif

#include <algorithm>
#include <vector>

namespace loom::kernels {

namespace {

at::Tensor rms_norm_reference(const at::Tensor& x, const at::Tensor& weight, double eps) {
  at::Tensor hidden = x.to(at::kFloat);
  at::Tensor variance = hidden.pow(2).mean(-1, /*keepdim=*/true);
  hidden = hidden * at::rsqrt(variance + eps);
  return weight * hidden.to(x.scalar_type());
}

at::Tensor silu_mul(const at::Tensor& gate_up, bool gelu_tanh) {
  if (gelu_tanh) {
    const int64_t inter = gate_up.size(-1) / 2;
    at::Tensor gate = at::gelu(gate_up.narrow(-1, 0, inter), "tanh");
    gate.mul_(gate_up.narrow(-1, inter, inter));
    return gate;
  }
#ifdef LOOM_ACCEL_TORCH_CUDA
  if (gate_up.is_cuda()) {
    at::Tensor fused = cuda::fused_silu_mul(gate_up);
    if (fused.defined()) return fused;
  }
#endif
  const int64_t inter = gate_up.size(-1) / 2;
  at::Tensor gate = at::silu(gate_up.narrow(-1, 0, inter));
  gate.mul_(gate_up.narrow(-1, inter, inter));
  return gate;
}

}  // namespace

at::Tensor gated_activation(const at::Tensor& gate_up, bool gelu_tanh) { return silu_mul(gate_up, gelu_tanh); }

at::Tensor rms_norm(const at::Tensor& x, const at::Tensor& weight, double eps) {
#ifdef LOOM_ACCEL_TORCH_CUDA
  if (x.is_cuda()) {
    at::Tensor fused = cuda::fused_rms_norm(x, weight, eps);
    if (fused.defined()) return fused;
  }
#endif
  return rms_norm_reference(x, weight, eps);
}

at::Tensor add_rms_norm(at::Tensor& hidden, const at::Tensor& delta, const at::Tensor& weight, double eps) {
  LOOM_CHECK(hidden.is_contiguous(), "add_rms_norm updates hidden in place: it must be contiguous");
#ifdef LOOM_ACCEL_TORCH_CUDA
  if (hidden.is_cuda()) {
    at::Tensor out;
    if (cuda::fused_add_rms_norm(hidden, delta, weight, eps, out)) return out;
  }
#endif
  hidden.add_(delta);
  return rms_norm(hidden, weight, eps);
}

at::Tensor fused_silu_mlp(const at::Tensor& x, const at::Tensor& gate_up_weight, const at::Tensor& gate_up_bias,
                          const at::Tensor& down_weight, const at::Tensor& down_bias) {
  return fused_gated_mlp(x, gate_up_weight, gate_up_bias, down_weight, down_bias, false);
}

at::Tensor fused_gated_mlp(const at::Tensor& x, const at::Tensor& gate_up_weight, const at::Tensor& gate_up_bias,
                           const at::Tensor& down_weight, const at::Tensor& down_bias, bool gelu_tanh) {
  const int64_t hidden = x.size(-1);
  const int64_t rows = x.numel() / std::max<int64_t>(hidden, 1);
  if (rows <= kMlpSliceRows) {
    return at::linear(silu_mul(at::linear(x, gate_up_weight, gate_up_bias), gelu_tanh), down_weight, down_bias);
  }
  const at::Tensor flat = x.reshape({rows, hidden});
  at::Tensor out = at::empty({rows, down_weight.size(0)}, x.options());
  for (int64_t start = 0; start < rows; start += kMlpSliceRows) {
    const int64_t count = std::min(kMlpSliceRows, rows - start);
    at::Tensor gate = silu_mul(at::linear(flat.narrow(0, start, count), gate_up_weight, gate_up_bias), gelu_tanh);
    out.narrow(0, start, count).copy_(at::linear(gate, down_weight, down_bias));
  }
  std::vector<int64_t> shape = x.sizes().vec();
  shape.back() = down_weight.size(0);
  return out.view(shape);
}

}  // namespace loom::kernels
