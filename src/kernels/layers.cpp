#include "kernels/layers.h"

namespace loom::kernels {

at::Tensor rms_norm(const at::Tensor& x, const at::Tensor& weight, double eps) {
  at::Tensor hidden = x.to(at::kFloat);
  at::Tensor variance = hidden.pow(2).mean(-1, /*keepdim=*/true);
  hidden = hidden * at::rsqrt(variance + eps);
  return weight * hidden.to(x.scalar_type());
}

at::Tensor silu_mlp(const at::Tensor& x, const at::Tensor& gate_weight, const at::Tensor& up_weight,
                    const at::Tensor& down_weight) {
  at::Tensor gate = at::silu(at::linear(x, gate_weight));
  gate.mul_(at::linear(x, up_weight));
  return at::linear(gate, down_weight);
}

}  // namespace loom::kernels
