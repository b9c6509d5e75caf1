// CakeKV cascading layer budgets (see cake_policy.h).
#include "rank/accel/cake_policy.h"

#include "common/error.h"
#include "rank/accel/eviction_policy.h"
#include "rank/accel/varlen_kv_cache.h"
#include "rank/parallel/communicator.h"

#include <cmath>

namespace loom::accel {

CakePolicy::CakePolicy(model::PolicyContext context, CakeSettings settings)
    : AttentionPolicy(std::move(context)), settings_(std::move(settings)) {}

void CakePolicy::begin_sequence(int64_t prompt_length) { layers_.clear(); }

void CakePolicy::trim(LayerState& state, int64_t budget) {
  for (int64_t h = 0; h < static_cast<int64_t>(state.past_scores.size()); ++h) {
    const at::Tensor& scores = state.past_scores[h];
    const int64_t n_past = scores.numel();
    if (budget >= n_past) continue;
    at::Tensor top = std::get<0>(std::get<1>(scores.topk(budget, -1, true, false)).sort());
    at::Tensor window_rows = at::arange(n_past, n_past + state.window, top.options());
    state.cache->retain(h, at::cat({top, window_rows}));
    state.past_scores[h] = scores.index_select(0, top);
  }
}

std::unique_ptr<model::LayerKVCache> CakePolicy::finish_prefill(std::unique_ptr<model::LayerKVCache> cache,
                                                               const model::PrefillSummary& summary) {
  auto [keys, values] = cache->dense();
  const int64_t total = keys.size(1);
  const int64_t kv_heads = keys.size(0);
  LOOM_CHECK(summary.window_queries.defined() && summary.window_queries.size(1) > 0,
             "CakeKV needs the observation-window queries");
  const at::Tensor queries = summary.window_queries.to(at::kFloat);
  const int64_t w = queries.size(1);
  const int64_t cache_size = settings_.budget.kept_tokens(total);
  if (total <= cache_size + w) return cache;

  const double scale = 1.0 / std::sqrt(static_cast<double>(keys.size(2)));
  at::Tensor past = window_attention(queries, keys, scale).narrow(2, 0, total - w);
  at::Tensor stats = at::stack({-(past * at::log(past + 1e-10)).sum(), past.var(1, /*unbiased=*/true).sum()})
                         .to(at::kDouble);
  if (context_.tp != nullptr && context_.tp->size() > 1) context_.tp->all_reduce_sum(stats);
  const double entropy = stats[0].item<double>();
  const double variance = stats[1].item<double>();
  const double preference = std::pow(entropy, 1.0 / settings_.tau1) * std::pow(variance, 1.0 / settings_.tau2);

  ScoreInputs inputs{keys, values, &summary, &context_};
  at::Tensor scores = score_tokens(settings_.scorer, inputs).narrow(1, 0, total - w);  // past part only

  const int64_t num_layers = std::max<int64_t>(context_.shape.num_layers, 1);
  const int64_t total_budget = (cache_size - w) * num_layers;
  layers_.push_back(LayerState{});
  double preference_sum = 0.0;
  layers_.back().preference = preference;
  for (const LayerState& s : layers_) preference_sum += s.preference;
  std::vector<int64_t> budgets;
  for (const LayerState& s : layers_) {
    budgets.push_back(static_cast<int64_t>(s.preference / preference_sum * static_cast<double>(total_budget)));
  }
  budgets = cake_adjust_budgets(budgets, total_budget, total - w);

  // This layer: top budget past tokens plus the window.
  const int64_t budget = std::max<int64_t>(0, std::min(budgets.back(), total - w));
  std::vector<at::Tensor> kept;
  LayerState& state = layers_.back();
  state.window = w;
  for (int64_t h = 0; h < kv_heads; ++h) {
    at::Tensor top = std::get<0>(std::get<1>(scores[h].topk(budget, -1, true, false)).sort());
    state.past_scores.push_back(scores[h].index_select(0, top));
    kept.push_back(at::cat({top.to(at::kCPU), at::arange(total - w, total, at::kLong)}));
  }
  auto compressed = PerHeadVarlenCache::from_selection(keys, values, kept, cache->logical_length(),
                                                       decode_spare_rows(context_, total));
  state.cache = compressed.get();
  // Earlier layers shrink to their new budgets.
  for (size_t i = 0; i + 1 < layers_.size(); ++i) {
    if (layers_[i].cache != nullptr) trim(layers_[i], std::max<int64_t>(0, budgets[i]));
  }
  return compressed;
}

}  // namespace loom::accel
