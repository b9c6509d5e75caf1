// CriticalKV score re-weighting (see critical_scores.h).
#include "rank/accel/critical_scores.h"

#include "common/error.h"

#include <algorithm>
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

at::Tensor adakv_safeguarded(const at::Tensor& scores, int64_t n_kept, double alpha_safeguard) {
  at::Tensor s = scores.to(at::kFloat).clone();
  int64_t n_safe = static_cast<int64_t>(static_cast<double>(n_kept) * alpha_safeguard);
  if (alpha_safeguard > 0) n_safe = n_kept > 0 ? std::max<int64_t>(1, n_safe) : 0;
  if (n_safe > 0) s.scatter_(-1, std::get<1>(s.topk(n_safe, -1)), std::numeric_limits<float>::max());
  return s;
}

std::vector<int64_t> adakv_head_budgets(const at::Tensor& safeguarded, int64_t n_kept) {
  const int64_t heads = safeguarded.size(0), total = safeguarded.size(1);
  const at::Tensor top = std::get<1>(safeguarded.reshape({-1}).topk(n_kept * heads));
  const at::Tensor counts = at::bincount(at::div(top, total, "floor").to(at::kCPU), {}, heads);
  std::vector<int64_t> budgets(static_cast<size_t>(heads));
  for (int64_t h = 0; h < heads; ++h) budgets[static_cast<size_t>(h)] = counts[h].item<int64_t>();
  return budgets;
}

std::vector<at::Tensor> critical_adakv_kept(const at::Tensor& safeguarded, const at::Tensor& values,
                                            const at::Tensor& o_proj_weight, int64_t num_heads,
                                            const std::vector<int64_t>& budgets, double first_stage_ratio,
                                            double epsilon) {
  const int64_t heads = safeguarded.size(0);
  const float top_value = std::numeric_limits<float>::max();
  at::Tensor s = safeguarded.clone();
  std::vector<int64_t> first(budgets.size());
  int64_t most_first = 0, most = 0;
  for (size_t h = 0; h < budgets.size(); ++h) {
    // kvpress: (head_budgets * first_stage_ratio).to(int64), an int64 tensor times a float: float32 arithmetic
    first[h] = static_cast<int64_t>(static_cast<float>(budgets[h]) * static_cast<float>(first_stage_ratio));
    most_first = std::max(most_first, first[h]);
    most = std::max(most, budgets[h]);
  }
  const at::Tensor first_index = std::get<1>(s.topk(most_first, -1, true, true));
  for (int64_t h = 0; h < heads; ++h) {
    s[h].scatter_(-1, first_index[h].narrow(0, 0, first[static_cast<size_t>(h)]), top_value);
  }
  s = (s + epsilon) * projected_value_norm(values, o_proj_weight, num_heads);
  const at::Tensor index = std::get<1>(s.topk(most, -1, true, true));
  std::vector<at::Tensor> kept;
  for (int64_t h = 0; h < heads; ++h) {
    kept.push_back(std::get<0>(index[h].narrow(0, 0, budgets[static_cast<size_t>(h)]).sort()));
  }
  return kept;
}

}  // namespace loom::accel
