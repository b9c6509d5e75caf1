#include "kernels/layers.h"

namespace loom::kernels {

at::Tensor rms_norm(const at::Tensor& x, const at::Tensor& weight, double eps) {
  at::Tensor hidden = x.to(at::kFloat);
  at::Tensor variance = hidden.pow(2).mean(-1, /*keepdim=*/true);
  hidden = hidden * at::rsqrt(variance + eps);
  return weight * hidden.to(x.scalar_type());
}

at::Tensor silu_mlp(const at::Tensor& x, const at::Tensor& gate_weight, const at::Tensor& up_weight,
                    const at::Tensor& down_weight, const at::Tensor& gate_bias, const at::Tensor& up_bias,
                    const at::Tensor& down_bias) {
  at::Tensor gate = at::silu(at::linear(x, gate_weight, gate_bias));
  gate.mul_(at::linear(x, up_weight, up_bias));
  return at::linear(gate, down_weight, down_bias);
}

}  // namespace loom::kernels
