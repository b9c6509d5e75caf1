// Compactor eviction policy (see compactor_policy.h).
#include "rank/accel/compactor_policy.h"

#include "rank/accel/eviction_policy.h"
#include "rank/accel/varlen_kv_cache.h"

namespace loom::accel {

std::unique_ptr<model::LayerKVCache> CompactorPolicy::finish_prefill(std::unique_ptr<model::LayerKVCache> cache,
                                                                    const model::PrefillSummary& summary) {
  auto [keys, values] = cache->dense();
  const int64_t total = keys.size(1);
  const int64_t n_kept = settings_.budget.kept_tokens(total);
  if (n_kept >= total) return cache;
  CompactorInputs inputs;
  inputs.keys = keys;
  inputs.values = values;
  inputs.queries = summary.window_queries;
  inputs.inv_freq = summary.rope_inv_freq;
  inputs.tp = context_.tp;
  // kvpress: blending defaults to the compression ratio; with max_capacity_prompt C, the ratio C stands for.
  inputs.blending = settings_.blending ? *settings_.blending
                    : settings_.budget.compression_ratio
                        ? *settings_.budget.compression_ratio
                        : 1.0 - static_cast<double>(n_kept) / static_cast<double>(total);
  const at::Tensor scores = compactor_scores(settings_.scores, inputs);
  const std::vector<at::Tensor> kept =
      top_k_kept(scores, std::vector<int64_t>(static_cast<size_t>(keys.size(0)), n_kept));
  return PerHeadVarlenCache::from_selection(keys, values, kept, cache->logical_length(),
                                            decode_spare_rows(context_, total));
}

}  // namespace loom::accel
