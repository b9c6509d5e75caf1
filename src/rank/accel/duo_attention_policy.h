// DuoAttention (kvpress DuoAttentionPress with a published attention pattern, method_files.h): the
// round(n * head_compression_ratio) (layer, KV head) pairs of lowest pattern score are streaming heads. After the
// prefill a streaming head keeps its first sink_size and last recent_size tokens (kvpress masks the keys
// [sink_size : -recent_size], with Python's slice rules), every other head keeps the whole prompt. kvpress masks
// the evicted keys; we store only the kept rows (PerHeadVarlenCache), so memory really drops. Decoded tokens are
// appended to every head (kvpress masks only at the prefill). Ties among pattern scores are broken by the lower
// flat index (a stable sort; numpy's argsort is not stable for long arrays). Under tensor parallelism each rank
// applies the columns of its own KV heads.
#pragma once

#include "rank/accel/method_files.h"
#include "rank/model/attention_policy.h"

#include <memory>
#include <string>
#include <vector>

namespace loom::accel {

// [num_layers, num_kv_heads] true where the head streams (kvpress post_init_from_model's streaming_mask).
at::Tensor duo_streaming_mask(const at::Tensor& head_scores, double head_compression_ratio);

// Positions a streaming head keeps of `total` prompt tokens (kvpress's mask [sink : -recent] inverted).
at::Tensor duo_streaming_positions(int64_t total, int64_t sink_size, int64_t recent_size);

class DuoAttentionPolicy final : public model::AttentionPolicy {
 public:
  DuoAttentionPolicy(model::PolicyContext context, std::shared_ptr<const DuoPattern> pattern,
                     std::shared_ptr<const at::Tensor> streaming);

  std::unique_ptr<model::LayerKVCache> finish_prefill(std::unique_ptr<model::LayerKVCache> cache,
                                                      const model::PrefillSummary& summary) override;

 private:
  std::shared_ptr<const DuoPattern> pattern_;
  std::shared_ptr<const at::Tensor> streaming_;  // [num_layers, num_kv_heads (all ranks)] bool
};

class DuoAttentionPolicyFactory final : public model::AttentionPolicyFactory {
 public:
  DuoAttentionPolicyFactory(std::string name, DuoPattern pattern, double head_compression_ratio);
  std::unique_ptr<model::AttentionPolicy> create(const model::PolicyContext& context) const override {
    return std::make_unique<DuoAttentionPolicy>(context, pattern_, streaming_);
  }
  std::string name() const override { return name_; }

 private:
  std::string name_;
  std::shared_ptr<const DuoPattern> pattern_;
  std::shared_ptr<const at::Tensor> streaming_;
};

}  // namespace loom::accel
