// ThinK channel pruning over SnapKV selection (see think_policy.h).
#include "rank/accel/think_policy.h"

#include "common/error.h"
#include "rank/accel/channel_pruned_kv_cache.h"
#include "rank/accel/eviction_policy.h"

namespace loom::accel {

std::unique_ptr<model::LayerKVCache> ThinkPolicy::finish_prefill(std::unique_ptr<model::LayerKVCache> cache,
                                                                const model::PrefillSummary& summary) {
  auto [keys, values] = cache->dense();
  const int64_t total = keys.size(1);
  const int64_t kv_heads = keys.size(0);
  const int64_t dim = keys.size(2);
  LOOM_CHECK(summary.window_queries.defined() && summary.window_queries.size(1) > 0,
             "ThinK needs the observation-window queries");
  const at::Tensor queries = summary.window_queries.to(at::kFloat);
  if (settings_.budget) {
    const int64_t n_kept = settings_.budget->kept_tokens(total);
    if (n_kept < total && total > queries.size(1)) {
      ScoreInputs inputs{keys, values, &summary, &context_};
      std::vector<at::Tensor> kept = top_k_kept(score_tokens(settings_.snapkv, inputs),
                                                std::vector<int64_t>(static_cast<size_t>(kv_heads), n_kept));
      at::Tensor index = at::stack(kept).to(keys.device());  // [H, n_kept], sorted
      at::Tensor gather = index.unsqueeze(-1).expand({kv_heads, n_kept, dim});
      keys = keys.gather(1, gather);
      values = values.gather(1, gather);
    }
  }
  const int64_t n_pruned = static_cast<int64_t>(dim * settings_.key_channel_compression_ratio);
  if (n_pruned == 0) {
    at::Tensor all = at::arange(dim, keys.options().dtype(at::kLong)).unsqueeze(0).repeat({kv_heads, 1});
    return std::make_unique<ChannelPrunedCache>(keys, values, all, total, cache->logical_length(),
                                                decode_spare_rows(context_, total));
  }
  at::Tensor query_norm = group_mean(queries.pow(2).mean(1), kv_heads);  // [H_kv, d]
  at::Tensor key_norm = keys.to(at::kFloat).pow(2).mean(1);              // [H_kv, d]
  at::Tensor channel_scores = query_norm * key_norm;
  at::Tensor pruned = std::get<1>(channel_scores.topk(n_pruned, -1, /*largest=*/false));
  at::Tensor keep_mask = at::ones_like(channel_scores, channel_scores.options().dtype(at::kBool));
  keep_mask.scatter_(1, pruned, false);
  at::Tensor kept_channels = keep_mask.nonzero().select(1, 1).reshape({kv_heads, dim - n_pruned});
  return std::make_unique<ChannelPrunedCache>(keys, values, kept_channels, settings_.recent_size,
                                              cache->logical_length(), decode_spare_rows(context_, total));
}

}  // namespace loom::accel
