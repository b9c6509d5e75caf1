// DuoAttention policy (see duo_attention_policy.h).
#include "rank/accel/duo_attention_policy.h"

#include "common/error.h"
#include "rank/accel/eviction_policy.h"
#include "rank/accel/varlen_kv_cache.h"
#include "rank/parallel/communicator.h"

#include <cmath>

namespace loom::accel {

at::Tensor duo_streaming_mask(const at::Tensor& head_scores, double head_compression_ratio) {
  const int64_t n = head_scores.numel();
  // kvpress: n_pruned = round(size * ratio) (Python rounds half to even, as nearbyint does)
  const auto pruned = static_cast<int64_t>(std::nearbyint(static_cast<double>(n) * head_compression_ratio));
  at::Tensor mask = at::zeros({n}, at::kBool);
  if (pruned > 0) {
    const at::Tensor order = std::get<1>(head_scores.reshape({n}).sort(/*stable=*/true, 0, /*descending=*/false));
    mask.index_fill_(0, order.narrow(0, 0, pruned), true);
  }
  return mask.reshape(head_scores.sizes());
}

at::Tensor duo_streaming_positions(int64_t total, int64_t sink_size, int64_t recent_size) {
  // Python's keys[sink : -recent]: -0 is 0 (nothing masked), a negative end clamps to 0, a start clamps to total.
  const int64_t begin = std::min(sink_size, total);
  const int64_t end = recent_size == 0 ? 0 : std::max<int64_t>(total - recent_size, 0);
  if (end <= begin) return at::arange(total, at::kLong);
  return at::cat({at::arange(begin, at::kLong), at::arange(end, total, at::kLong)});
}

DuoAttentionPolicy::DuoAttentionPolicy(model::PolicyContext context, std::shared_ptr<const DuoPattern> pattern,
                                       std::shared_ptr<const at::Tensor> streaming)
    : AttentionPolicy(std::move(context)), pattern_(std::move(pattern)), streaming_(std::move(streaming)) {}

std::unique_ptr<model::LayerKVCache> DuoAttentionPolicy::finish_prefill(std::unique_ptr<model::LayerKVCache> cache,
                                                                       const model::PrefillSummary& summary) {
  const int64_t layer = summary.layer;
  const int64_t kv_heads = context_.shape.num_kv_heads;
  int64_t first = 0, ranks = 1;
  if (context_.tp != nullptr && context_.tp->size() > 1) {
    first = static_cast<int64_t>(context_.tp->rank()) * kv_heads;
    ranks = context_.tp->size();
  }
  const at::Tensor& mask = *streaming_;
  if (mask.size(0) != context_.shape.num_layers || mask.size(1) != kv_heads * ranks) {
    throw InputError("acceleration method 'duo_attention'", 0, "params.pattern_path",
                     fmt::format("a full_attention_heads.tsv of the model: {} lines (layers) of {} scores (KV heads); "
                                 "it has {} x {}",
                                 context_.shape.num_layers, kv_heads * ranks, mask.size(0), mask.size(1)));
  }
  auto [keys, values] = cache->dense();
  const int64_t total = keys.size(1);
  const at::Tensor streaming_rows = duo_streaming_positions(total, pattern_->sink_size, pattern_->recent_size);
  if (streaming_rows.size(0) == total) return cache;
  bool any = false;
  std::vector<at::Tensor> kept;
  for (int64_t h = 0; h < kv_heads; ++h) {
    const bool streams = mask[layer][first + h].item<bool>();
    any = any || streams;
    kept.push_back(streams ? streaming_rows : at::arange(total, at::kLong));
  }
  if (!any) return cache;
  return PerHeadVarlenCache::from_selection(keys, values, kept, cache->logical_length(),
                                            decode_spare_rows(context_, total));
}

DuoAttentionPolicyFactory::DuoAttentionPolicyFactory(std::string name, DuoPattern pattern,
                                                     double head_compression_ratio)
    : name_(std::move(name)) {
  streaming_ = std::make_shared<const at::Tensor>(duo_streaming_mask(pattern.head_scores, head_compression_ratio));
  pattern_ = std::make_shared<const DuoPattern>(std::move(pattern));
}

}  // namespace loom::accel
