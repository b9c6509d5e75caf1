#include "kernels/rope.h"

#ifdef LOOM_ACCEL_TORCH_CUDA
#include "kernels/cuda/torch_accel_adapter.h"
#endif

namespace loom::kernels {

std::pair<at::Tensor, at::Tensor> rope_cos_sin(const at::Tensor& inv_freq, int64_t start, int64_t length,
                                               double attention_scaling, at::ScalarType dtype) {
  at::Tensor positions =
      at::arange(start, start + length, inv_freq.options().dtype(at::kLong)).to(at::kFloat).unsqueeze(1);
  at::Tensor angles = positions * inv_freq.to(at::kFloat).unsqueeze(0);  // [length, dim/2]
  at::Tensor emb = at::cat({angles, angles}, -1);
  at::Tensor cos = emb.cos(), sin = emb.sin();
  if (attention_scaling != 1.0) {
    cos = cos * attention_scaling;
    sin = sin * attention_scaling;
  }
  return {cos.to(dtype), sin.to(dtype)};
}

at::Tensor apply_rope(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin) {
#ifdef LOOM_ACCEL_TORCH_CUDA
  if (x.is_cuda() && x.dim() == 3) {
    at::Tensor fused = cuda::fused_rope(x, cos, sin);
    if (fused.defined()) return fused;
  }
#endif
  const int64_t half = x.size(-1) / 2;
  at::Tensor rotated = at::cat({-x.narrow(-1, half, half), x.narrow(-1, 0, half)}, -1);
  return x * cos + rotated * sin;
}

}  // namespace loom::kernels
