// Token-eviction policy (see eviction_policy.h).
#include "rank/accel/eviction_policy.h"

#include "common/error.h"
#include "kernels/rope.h"
#include "rank/accel/block_selection.h"
#include "rank/accel/cam_merge.h"
#include "rank/accel/critical_scores.h"
#include "rank/accel/varlen_kv_cache.h"
#include "rank/parallel/communicator.h"

#include <algorithm>
#include <cmath>

namespace loom::accel {

// kvpress FinchPress.compress with chunk_length: the top compute_n_kept(len, r) of every chunk, sorted.
static std::vector<at::Tensor> per_chunk_kept(const at::Tensor& scores, double ratio, int64_t chunk_length) {
  const int64_t total = scores.size(1);
  std::vector<at::Tensor> kept;
  for (int64_t h = 0; h < scores.size(0); ++h) {
    std::vector<at::Tensor> parts;
    for (int64_t start = 0; start < total; start += chunk_length) {
      const int64_t len = std::min(chunk_length, total - start);
      const int64_t n = std::max<int64_t>(1, static_cast<int64_t>(static_cast<double>(len) * (1.0 - ratio)));
      parts.push_back(std::get<1>(scores[h].narrow(0, start, len).topk(n, -1, true, false)) + start);
    }
    kept.push_back(std::get<0>(at::cat(parts).sort()));
  }
  return kept;
}

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
  if (settings_.critical && settings_.layout == BudgetLayout::kAdaKV) {
    // CriticalAdaKV: head budgets over the whole group's heads (all-gathered under TP), stages on this rank's heads.
    const at::Tensor safeguarded = adakv_safeguarded(scores, n_kept, settings_.alpha_safeguard);
    std::vector<int64_t> budgets;
    if (context_.tp != nullptr && context_.tp->size() > 1) {
      const std::vector<int64_t> all = adakv_head_budgets(context_.tp->all_gather(safeguarded.contiguous(), 0), n_kept);
      const auto first = static_cast<std::ptrdiff_t>(context_.tp->rank() * kv_heads);
      budgets.assign(all.begin() + first, all.begin() + first + kv_heads);
    } else {
      budgets = adakv_head_budgets(safeguarded, n_kept);
    }
    const std::vector<at::Tensor> kept =
        critical_adakv_kept(safeguarded, values, summary.o_proj_weight, context_.shape.num_heads, budgets,
                            settings_.first_stage_ratio, settings_.critical_epsilon);
    return PerHeadVarlenCache::from_selection(keys, values, kept, cache->logical_length(),
                                              decode_spare_rows(context_, total));
  }
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
  } else if (settings_.layout == BudgetLayout::kPerChunk) {
    kept = per_chunk_kept(scores, *settings_.budget.compression_ratio, settings_.chunk_length);
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
  if (settings_.rerotate) return rerotated(keys, values, kept, summary.rope_inv_freq, total);
  return PerHeadVarlenCache::from_selection(keys, values, kept, cache->logical_length(),
                                            decode_spare_rows(context_, total));
}

std::unique_ptr<model::LayerKVCache> EvictionPolicy::rerotated(const at::Tensor& keys, const at::Tensor& values,
                                                               const std::vector<at::Tensor>& kept,
                                                               const at::Tensor& inv_freq, int64_t total) const {
  LOOM_CHECK(inv_freq.defined(), "key re-rotation needs the layer's RoPE frequencies in the prefill summary");
  std::vector<at::Tensor> rotated_keys, kept_values, renumbered;
  for (size_t h = 0; h < kept.size(); ++h) {
    const at::Tensor index = kept[h].to(keys.device());
    const at::Tensor rows = keys[static_cast<int64_t>(h)].index_select(0, index);
    rotated_keys.push_back(rerotate_keys(rows, index, inv_freq));
    kept_values.push_back(values[static_cast<int64_t>(h)].index_select(0, index));
    renumbered.push_back(at::arange(index.size(0), at::TensorOptions().dtype(at::kLong)));
  }
  const int64_t n = kept.empty() ? 0 : kept.front().size(0);
  for (const at::Tensor& k : kept) LOOM_CHECK(k.size(0) == n, "key re-rotation needs one budget for every head");
  return PerHeadVarlenCache::from_selection(at::stack(rotated_keys), at::stack(kept_values), renumbered, n,
                                            decode_spare_rows(context_, total));
}

at::Tensor rerotate_keys(const at::Tensor& rows, const at::Tensor& positions, const at::Tensor& inv_freq) {
  // kvpress KeyRerotationPress._rerotate_cos_sin: delta = i - p_i in fp32, angles delta * inv_freq, cos/sin cast to
  // the keys' dtype, then keys * cos + rotate_half(keys) * sin.
  const int64_t n = rows.size(0);
  const at::Tensor delta = at::arange(n, positions.options().dtype(at::kFloat)) - positions.to(at::kFloat);
  const at::Tensor angles = delta.unsqueeze(1) * inv_freq.to(rows.device(), at::kFloat).unsqueeze(0);
  const at::Tensor emb = at::cat({angles, angles}, -1);
  return kernels::apply_rope(rows, emb.cos().to(rows.scalar_type()), emb.sin().to(rows.scalar_type()));
}

}  // namespace loom::accel
