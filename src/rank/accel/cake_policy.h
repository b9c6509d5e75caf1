// CakeKV (CAKE, "Cascading and Adaptive KV cache Eviction with Layer Preferences", official cake/ code):
//  * per layer, from the window queries' attention over the past tokens A: preference P = H^(1/tau1) * V^(1/tau2)
//    with H = -sum A log(A + 1e-10) and V = sum of the variance of A over the window queries (all heads; under
//    TP both sums are all-reduced);
//  * eviction indicator: avg_pool5(mean_w A + gamma * var_w A), GQA mean (token_scorers.h, kCake);
//  * cascading budgets: after layer l, layers 0..l get B_i = int(P_i / sum_j<=l P_j * (C - w) * L), adjusted by
//    CAKE's adjust_budgets (clipped to the T - w past tokens), and each layer keeps its top-B_i past tokens plus
//    the w window tokens. Earlier layers are trimmed in place (their PerHeadVarlenCache shrinks), so the whole
//    cache never exceeds the budget — this is the point of CAKE's cascade.
// C is the per-layer cache size: max_capacity_prompt (CAKE's cache_size) or int(T * (1 - compression_ratio)).
// As in CAKE, prompts with T <= C + w are not compressed.
#pragma once

#include "rank/accel/token_budget.h"
#include "rank/accel/token_scorers.h"
#include "rank/model/attention_policy.h"

#include <memory>
#include <string>
#include <vector>

namespace loom::accel {

class PerHeadVarlenCache;

struct CakeSettings {
  std::string name = "cakekv";
  ScorerSettings scorer;  // kind kCake: window_size, gamma
  TokenBudget budget;
  double tau1 = 1.0;
  double tau2 = 1.0;
};

class CakePolicy final : public model::AttentionPolicy {
 public:
  CakePolicy(model::PolicyContext context, CakeSettings settings);

  void begin_sequence(int64_t prompt_length) override;
  std::unique_ptr<model::LayerKVCache> finish_prefill(std::unique_ptr<model::LayerKVCache> cache,
                                                      const model::PrefillSummary& summary) override;
  int64_t observation_window() const override { return settings_.scorer.window_size; }

 private:
  struct LayerState {
    PerHeadVarlenCache* cache = nullptr;  // owned by the engine for the sequence's lifetime
    double preference = 0.0;
    std::vector<at::Tensor> past_scores;  // per head: indicator of the currently kept past rows (in row order)
    int64_t window = 0;
  };
  void trim(LayerState& state, int64_t budget);

  CakeSettings settings_;
  std::vector<LayerState> layers_;
};

class CakePolicyFactory final : public model::AttentionPolicyFactory {
 public:
  explicit CakePolicyFactory(CakeSettings settings) : settings_(std::move(settings)) {}
  std::unique_ptr<model::AttentionPolicy> create(const model::PolicyContext& context) const override {
    return std::make_unique<CakePolicy>(context, settings_);
  }
  std::string name() const override { return settings_.name; }

 private:
  CakeSettings settings_;
};

}  // namespace loom::accel
