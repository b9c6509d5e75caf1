// Token budgets: uniform, PyramidKV, AdaKV, CAKE (see token_budget.h).
#include "rank/accel/token_budget.h"

#include "common/error.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace loom::accel {

int64_t TokenBudget::kept_tokens(int64_t prompt_length) const {
  if (max_capacity_prompt) return std::min(prompt_length, *max_capacity_prompt);
  const double ratio = compression_ratio.value_or(0.0);
  return std::min(prompt_length, std::max<int64_t>(1, static_cast<int64_t>(prompt_length * (1.0 - ratio))));
}

TokenBudget read_token_budget(const MethodParams& params) {
  TokenBudget budget;
  budget.compression_ratio = params.get_optional_double("compression_ratio");
  budget.max_capacity_prompt = params.get_optional_int("max_capacity_prompt");
  return budget;
}

int64_t pyramid_layer_budget(const TokenBudget& budget, int64_t prompt_length, int64_t window_size, double beta,
                             int64_t layer, int64_t num_layers) {
  const int64_t uniform = budget.kept_tokens(prompt_length);
  if (budget.max_capacity_prompt) {
    // KVCache-Factory (pyramidkv_utils.py, PyramidKVCluster.update_kv), integer arithmetic.
    const int64_t capacity = *budget.max_capacity_prompt;
    const int64_t w = window_size;
    if (prompt_length < capacity) return prompt_length;
    if (prompt_length < (capacity - w) * 2) return capacity;
    const int64_t beta_int = static_cast<int64_t>(beta);
    int64_t min_num = (capacity - w) / beta_int;
    int64_t max_num = (capacity - w) * 2 - min_num;
    if (max_num >= prompt_length - w) {
      max_num = prompt_length - w;
      min_num = (capacity - w) * 2 - max_num;
    }
    const int64_t steps = num_layers > 1 ? (max_num - min_num) / (num_layers - 1) : 0;
    return std::min(prompt_length, max_num - layer * steps + w);
  }
  // kvpress (pyramidkv_press.py get_layer_budget).
  const double ratio = budget.compression_ratio.value_or(0.0);
  const double q_len = static_cast<double>(prompt_length);
  const double w = static_cast<double>(window_size);
  const double capacity = w + q_len * (1.0 - ratio);
  double min_num = (capacity - w) / beta;
  double max_num = (capacity - w) * 2.0 - min_num;
  if (max_num >= q_len - w) {
    max_num = q_len - w;
    min_num = (capacity - w) * 2.0 - max_num;
  }
  if (!(q_len >= max_num && max_num >= min_num && min_num >= w)) {
    return std::max<int64_t>(1, static_cast<int64_t>(std::nearbyint(q_len * (1.0 - ratio))));
  }
  const double steps = num_layers > 1 ? (max_num - min_num) / static_cast<double>(num_layers - 1) : 0.0;
  (void)uniform;
  return std::min(prompt_length, static_cast<int64_t>(std::nearbyint(max_num - static_cast<double>(layer) * steps)));
}

std::vector<at::Tensor> top_k_kept(const at::Tensor& scores, const std::vector<int64_t>& kept_per_head) {
  std::vector<at::Tensor> kept;
  for (int64_t h = 0; h < scores.size(0); ++h) {
    const int64_t n = std::min<int64_t>(kept_per_head.at(h), scores.size(1));
    at::Tensor index = std::get<1>(scores[h].topk(n, -1, /*largest=*/true, /*sorted=*/false));
    kept.push_back(std::get<0>(index.sort()));
  }
  return kept;
}

std::vector<at::Tensor> adakv_kept(const at::Tensor& scores_in, int64_t n_kept, double alpha_safeguard) {
  at::Tensor scores = scores_in.to(at::kFloat).clone();
  const int64_t heads = scores.size(0);
  const int64_t total = scores.size(1);
  int64_t n_safe = static_cast<int64_t>(n_kept * alpha_safeguard);
  if (alpha_safeguard > 0) n_safe = n_kept > 0 ? std::max<int64_t>(1, n_safe) : 0;
  if (n_safe > 0) {
    at::Tensor top = std::get<1>(scores.topk(n_safe, -1));
    scores.scatter_(-1, top, std::numeric_limits<float>::max());
  }
  const int64_t n_pruned = heads * (total - n_kept);
  at::Tensor keep_mask = at::ones({heads * total}, at::TensorOptions().dtype(at::kBool).device(scores.device()));
  if (n_pruned > 0) {
    at::Tensor pruned = std::get<1>((-scores.reshape({-1})).topk(n_pruned));
    keep_mask.index_fill_(0, pruned, false);
  }
  keep_mask = keep_mask.reshape({heads, total});
  std::vector<at::Tensor> kept;
  for (int64_t h = 0; h < heads; ++h) kept.push_back(keep_mask[h].nonzero().reshape({-1}));
  return kept;
}

std::vector<int64_t> cake_adjust_budgets(const std::vector<int64_t>& budgets_in, int64_t total_budget,
                                         int64_t seq_len) {
  std::vector<int64_t> budgets(budgets_in);
  const int64_t layers = static_cast<int64_t>(budgets.size());
  int64_t total_excess = 0;
  for (int64_t& b : budgets) {
    total_excess += std::max<int64_t>(b - seq_len, 0);
    b = std::min(b, seq_len);
  }
  auto distribute = [&](int64_t amount, bool add, auto valid) {
    std::vector<int64_t> indices;
    for (int64_t l = 0; l < layers; ++l) {
      if (valid(budgets[l])) indices.push_back(l);
    }
    if (indices.empty()) return;
    const int64_t per = amount / static_cast<int64_t>(indices.size());
    const int64_t remainder = amount % static_cast<int64_t>(indices.size());
    for (size_t i = 0; i < indices.size(); ++i) {
      const int64_t delta = per + (static_cast<int64_t>(i) < remainder ? 1 : 0);
      budgets[indices[i]] += add ? delta : -delta;
    }
  };
  if (total_excess > 0) distribute(total_excess, true, [&](int64_t b) { return b < seq_len; });
  int64_t current = 0;
  for (int64_t b : budgets) current += b;
  const int64_t diff = total_budget - current;
  if (diff > 0) distribute(diff, true, [&](int64_t b) { return b < seq_len; });
  if (diff < 0) distribute(-diff, false, [&](int64_t b) { return b > 1; });
  return budgets;
}

}  // namespace loom::accel
