// CriticalKV score re-weighting (see critical_scores.h).
#include "rank/accel/critical_scores.h"

#include "common/error.h"

#include <limits>

namespace loom::accel {

at::Tensor projected_value_norm(const at::Tensor& values, const at::Tensor& o_proj_weight, int64_t num_heads) {
  const int64_t kv_heads = values.size(0);
  const int64_t dim = values.size(2);
  if (!o_proj_weight.defined() || o_proj_weight.dim() != 2 || o_proj_weight.size(1) != num_heads * dim) {
    throw Error("criticalkv: expected the layer's o_proj weight [hidden, num_heads * head_dim] in the prefill "
                "summary");
  }
  const int64_t group = num_heads / kv_heads;
  // W_o^T per head: [num_heads, head_dim, hidden]
  const at::Tensor wo = o_proj_weight.to(at::kFloat).t().reshape({num_heads, dim, -1});
  const at::Tensor v = values.to(at::kFloat);
  std::vector<at::Tensor> norms;
  norms.reserve(static_cast<size_t>(num_heads));
  for (int64_t h = 0; h < num_heads; ++h) {  // one head at a time, as kvpress (bounded memory)
    norms.push_back(at::matmul(v[h / group], wo[h]).abs().sum(-1));
  }
  return at::stack(norms, 0).view({kv_heads, group, -1}).mean(1);
}

at::Tensor critical_scores(const at::Tensor& scores, const at::Tensor& values, const at::Tensor& o_proj_weight,
                           int64_t num_heads, int64_t first_stage, double epsilon) {
  at::Tensor s = scores.to(at::kFloat);
  const at::Tensor top = std::get<1>(s.topk(first_stage, -1, true, true));
  s = (s + epsilon) * projected_value_norm(values, o_proj_weight, num_heads);
  return s.scatter(-1, top, std::numeric_limits<float>::max());
}

}  // namespace loom::accel
