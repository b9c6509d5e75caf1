// Compactor (kvpress CompactorPress): query-agnostic eviction by blended leverage and non-causal chunked attention
// scores (compactor_scores.h). finish_prefill needs every prompt query (observation_window() = prompt length, as
// ObservedAttention) and un-rotates the cached keys with the layer's RoPE frequencies; each KV head keeps the top
// n_kept of its scores in a PerHeadVarlenCache. Prompts no longer than the budget stay dense.
#pragma once

#include "rank/accel/compactor_scores.h"
#include "rank/accel/token_budget.h"
#include "rank/model/attention_policy.h"

#include <memory>
#include <optional>
#include <string>

namespace loom::accel {

struct CompactorPolicySettings {
  std::string name = "compactor";
  TokenBudget budget;
  CompactorSettings scores;
  std::optional<double> blending;  // none: the compression ratio (kvpress's default)
};

class CompactorPolicy final : public model::AttentionPolicy {
 public:
  CompactorPolicy(model::PolicyContext context, CompactorPolicySettings settings)
      : AttentionPolicy(std::move(context)), settings_(std::move(settings)) {}

  void begin_sequence(int64_t prompt_length) override { prompt_length_ = prompt_length; }
  int64_t observation_window() const override { return prompt_length_; }
  std::unique_ptr<model::LayerKVCache> finish_prefill(std::unique_ptr<model::LayerKVCache> cache,
                                                      const model::PrefillSummary& summary) override;

 private:
  CompactorPolicySettings settings_;
  int64_t prompt_length_ = 0;
};

class CompactorPolicyFactory final : public model::AttentionPolicyFactory {
 public:
  explicit CompactorPolicyFactory(CompactorPolicySettings settings) : settings_(std::move(settings)) {}
  std::unique_ptr<model::AttentionPolicy> create(const model::PolicyContext& context) const override {
    return std::make_unique<CompactorPolicy>(context, settings_);
  }
  std::string name() const override { return settings_.name; }

 private:
  CompactorPolicySettings settings_;
};

}  // namespace loom::accel
