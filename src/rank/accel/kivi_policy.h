// KIVI policy: the prompt is prefilled with the full-precision dense cache; finish_prefill replaces each layer's
// cache by a KiviCache (kivi_kv_cache.h) holding k_bits/v_bits packed codes plus the full-precision residual.
#pragma once

#include "rank/accel/kivi_kv_cache.h"
#include "rank/model/attention_policy.h"

#include <string>

namespace loom::accel {

class KiviPolicy final : public model::AttentionPolicy {
 public:
  KiviPolicy(model::PolicyContext context, KiviSettings settings)
      : AttentionPolicy(std::move(context)), settings_(settings) {}
  std::unique_ptr<model::LayerKVCache> finish_prefill(std::unique_ptr<model::LayerKVCache> cache,
                                                      const model::PrefillSummary& summary) override {
    auto [keys, values] = cache->dense();
    return std::make_unique<KiviCache>(keys, values, cache->logical_length(), settings_);
  }

 private:
  KiviSettings settings_;
};

class KiviPolicyFactory final : public model::AttentionPolicyFactory {
 public:
  KiviPolicyFactory(std::string name, KiviSettings settings) : name_(std::move(name)), settings_(settings) {}
  std::unique_ptr<model::AttentionPolicy> create(const model::PolicyContext& context) const override {
    return std::make_unique<KiviPolicy>(context, settings_);
  }
  std::string name() const override { return name_; }

 private:
  std::string name_;
  KiviSettings settings_;
};

}  // namespace loom::accel
