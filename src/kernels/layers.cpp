#include "kernels/layers.h"

namespace loom::kernels {

at::Tensor rms_norm(const at::Tensor& x, const at::Tensor& weight, double eps) {
  at::Tensor hidden = x.to(at::kFloat);
  at::Tensor variance = hidden.pow(2).mean(-1, /*keepdim=*/true);
  hidden = hidden * at::rsqrt(variance + eps);
  return weight * hidden.to(x.scalar_type());
}

at::Tensor fused_silu_mlp(const at::Tensor& x, const at::Tensor& gate_up_weight, const at::Tensor& gate_up_bias,
                          const at::Tensor& down_weight, const at::Tensor& down_bias) {
  at::Tensor gate_up = at::linear(x, gate_up_weight, gate_up_bias);
  const int64_t inter = gate_up.size(-1) / 2;
  at::Tensor gate = at::silu(gate_up.narrow(-1, 0, inter));
  gate.mul_(gate_up.narrow(-1, inter, inter));
  return at::linear(gate, down_weight, down_bias);
}

}  // namespace loom::kernels
