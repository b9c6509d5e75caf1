// Token-eviction policy (see eviction_policy.h).
#include "rank/accel/eviction_policy.h"

#include "common/error.h"
#include "rank/accel/block_selection.h"
#include "rank/accel/cam_merge.h"
#include "rank/accel/critical_scores.h"
#include "rank/accel/varlen_kv_cache.h"
#include "rank/parallel/communicator.h"

#include <algorithm>
#include <cmath>

namespace loom::accel {

int64_t decode_spare_rows(const model::PolicyContext& context, int64_t prompt_length) {
  if (context.reserve_tokens > prompt_length) return std::max<int64_t>(context.reserve_tokens - prompt_length, 1);
  return 64;
}

EvictionPolicy::EvictionPolicy(model::PolicyContext context, EvictionSettings settings)
    : AttentionPolicy(std::move(context)), settings_(std::move(settings)) {}

int64_t EvictionPolicy::observation_window() const {
  return scorer_query_window(settings_.scorer, prompt_length_);
}

std::unique_ptr<model::LayerKVCache> EvictionPolicy::finish_prefill(std::unique_ptr<model::LayerKVCache> cache,
                                                                   const model::PrefillSummary& summary) {
  const int64_t layer = summary.layer;
  if (std::find(settings_.skip_layers.begin(), settings_.skip_layers.end(), layer) != settings_.skip_layers.end()) {
    return cache;
  }
  auto [keys, values] = cache->dense();
  const int64_t total = keys.size(1);
  const int64_t kv_heads = keys.size(0);
  const int64_t window = scorer_query_window(settings_.scorer, total);
  int64_t n_kept = settings_.budget.kept_tokens(total);
  if (settings_.layout == BudgetLayout::kPyramid) {
    n_kept = pyramid_layer_budget(settings_.budget, total, settings_.scorer.window_size, settings_.beta, layer,
                                  context_.shape.num_layers);
  }
  const bool window_scorer = settings_.scorer.kind != ScorerKind::kObserved && window > 0;
  if (n_kept >= total || (window_scorer && total <= window)) return cache;

  ScoreInputs inputs{keys, values, &summary, &context_};
  if (settings_.layout == BudgetLayout::kBlock) {
    return PerHeadVarlenCache::from_selection(keys, values, block_kept(settings_.scorer, inputs, n_kept,
                                                                       settings_.block_size),
                                              cache->logical_length(), decode_spare_rows(context_, total));
  }
  at::Tensor scores = score_tokens(settings_.scorer, inputs);
  if (settings_.critical) {
    // kvpress: int((1 - r) * T * first_stage_ratio), at least 1; with max_capacity_prompt, n_kept stands for
    // (1 - r) * T.
    const double kept_share = settings_.budget.compression_ratio
                                  ? (1.0 - *settings_.budget.compression_ratio) * static_cast<double>(total)
                                  : static_cast<double>(n_kept);
    int64_t first_stage = static_cast<int64_t>(kept_share * settings_.first_stage_ratio);
    if (settings_.first_stage_ratio > 0) first_stage = std::max<int64_t>(1, first_stage);
    scores = critical_scores(scores, values, summary.o_proj_weight, context_.shape.num_heads, first_stage,
                             settings_.critical_epsilon);
  }
  std::vector<at::Tensor> kept;
  if (settings_.layout == BudgetLayout::kChunk) {
    at::Tensor head_sum = scores.to(at::kFloat).sum(0);
    if (context_.tp != nullptr && context_.tp->size() > 1) {
      head_sum = context_.tp->all_gather(scores.to(at::kFloat).contiguous(), 0).sum(0);
    }
    const double keep_fraction = settings_.budget.compression_ratio
                                     ? 1.0 - *settings_.budget.compression_ratio
                                     : static_cast<double>(n_kept) / static_cast<double>(total);
    kept = chunk_kept(scores, head_sum, n_kept, keep_fraction, settings_.chunk_length);
  } else if (settings_.layout == BudgetLayout::kAdaKV && context_.tp != nullptr && context_.tp->size() > 1) {
    // Tensor parallel: AdaKV shares the layer's budget among all heads, so select on the whole group's scores
    // (same on every rank) and keep this rank's block of heads.
    const at::Tensor all_scores = context_.tp->all_gather(scores.to(at::kFloat).contiguous(), 0);
    const std::vector<at::Tensor> all_kept = adakv_kept(all_scores, n_kept, settings_.alpha_safeguard);
    const int64_t first = static_cast<int64_t>(context_.tp->rank()) * kv_heads;
    kept.assign(all_kept.begin() + first, all_kept.begin() + first + kv_heads);
  } else if (settings_.layout == BudgetLayout::kAdaKV) {
    kept = adakv_kept(scores, n_kept, settings_.alpha_safeguard);
  } else {
    kept = top_k_kept(scores, std::vector<int64_t>(static_cast<size_t>(kv_heads), n_kept));
  }
  if (settings_.cam_merge) {
    const at::Tensor queries = summary.window_queries.to(at::kFloat);
    const double scale = 1.0 / std::sqrt(static_cast<double>(keys.size(2)));
    at::Tensor attn_score = group_mean(window_attention(queries, keys, scale).mean(1), kv_heads);
    const int64_t start_budget = static_cast<int64_t>(std::ceil(settings_.start_budget_ratio * total));
    values = cam_merge_values(values, attn_score, queries.size(1), start_budget, settings_.seed);
  }
  return PerHeadVarlenCache::from_selection(keys, values, kept, cache->logical_length(),
                                            decode_spare_rows(context_, total));
}

}  // namespace loom::accel
