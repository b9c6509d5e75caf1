// ThinK (query-driven key-channel pruning), as LOOM-Scope / KVCache-Factory run it on top of SnapKV:
//  1. optional SnapKV token selection when compression_ratio or max_capacity_prompt is given (window_size,
//     kernel_size, pooling as SnapKV);
//  2. per KV head, channel score = mean over the last window_size queries of q^2 (GQA mean) * mean over the kept
//     tokens of k^2; the int(head_dim * key_channel_compression_ratio) lowest channels are dropped for every token
//     but the last recent_size ones (kvpress ThinKPress's scoring; KVCache-Factory's key_pruner_query_driven).
// The result is a ChannelPrunedCache that stores the pruned keys without those channels (kvpress only zeroes them).
#pragma once

#include "rank/accel/token_budget.h"
#include "rank/accel/token_scorers.h"
#include "rank/model/attention_policy.h"

#include <optional>
#include <string>

namespace loom::accel {

struct ThinkSettings {
  std::string name = "think";
  ScorerSettings snapkv;               // kind kSnapKV
  std::optional<TokenBudget> budget;   // token selection, if any
  double key_channel_compression_ratio = 0.4;
  int64_t recent_size = 32;
};

class ThinkPolicy final : public model::AttentionPolicy {
 public:
  ThinkPolicy(model::PolicyContext context, ThinkSettings settings)
      : AttentionPolicy(std::move(context)), settings_(std::move(settings)) {}
  std::unique_ptr<model::LayerKVCache> finish_prefill(std::unique_ptr<model::LayerKVCache> cache,
                                                      const model::PrefillSummary& summary) override;
  int64_t observation_window() const override { return settings_.snapkv.window_size; }

 private:
  ThinkSettings settings_;
};

class ThinkPolicyFactory final : public model::AttentionPolicyFactory {
 public:
  explicit ThinkPolicyFactory(ThinkSettings settings) : settings_(std::move(settings)) {}
  std::unique_ptr<model::AttentionPolicy> create(const model::PolicyContext& context) const override {
    return std::make_unique<ThinkPolicy>(context, settings_);
  }
  std::string name() const override { return settings_.name; }

 private:
  ThinkSettings settings_;
};

}  // namespace loom::accel
