// Sparse-prefill policies (FlexPrefill, XAttention): the engine calls prefill_attention() for every prefill chunk
// of every layer; the policy builds the chunk's block mask (sparse_prefill_masks.h) and returns block-sparse
// attention, or an undefined tensor (dense) when the method leaves the chunk dense. The KV cache stays dense and
// full: these methods save prefill time, not memory. prefill_block_density() reports the fraction of causal blocks
// computed over all layers and chunks so far (dense chunks count as fully computed); InferenceResult carries it.
#pragma once

#include "rank/accel/sparse_prefill_masks.h"
#include "rank/model/attention_policy.h"

#include <string>

namespace loom::accel {

enum class SparsePrefillKind { kFlexPrefill, kXAttention };

struct SparsePrefillSettings {
  std::string name;
  SparsePrefillKind kind = SparsePrefillKind::kFlexPrefill;
  FlexPrefillSettings flex;
  XAttentionSettings xattn;
};

class SparsePrefillPolicy final : public model::AttentionPolicy {
 public:
  SparsePrefillPolicy(model::PolicyContext context, SparsePrefillSettings settings)
      : AttentionPolicy(std::move(context)), settings_(std::move(settings)) {}

  bool replaces_prefill_attention() const override { return true; }
  at::Tensor prefill_attention(const model::PrefillAttentionInput& input) override;

  // Mask for one chunk (undefined: dense).
  at::Tensor block_mask(const at::Tensor& queries, const at::Tensor& keys) const;
  double prefill_block_density() const override;

 private:
  SparsePrefillSettings settings_;
  at::Tensor mask_blocks_;       // blocks the masks selected, summed on the masks' device (read once, at the end)
  double dense_blocks_ = 0;      // causal blocks of chunks left dense
  double causal_blocks_ = 0;
};

class SparsePrefillPolicyFactory final : public model::AttentionPolicyFactory {
 public:
  explicit SparsePrefillPolicyFactory(SparsePrefillSettings settings) : settings_(std::move(settings)) {}
  std::unique_ptr<model::AttentionPolicy> create(const model::PolicyContext& context) const override {
    return std::make_unique<SparsePrefillPolicy>(context, settings_);
  }
  std::string name() const override { return settings_.name; }

 private:
  SparsePrefillSettings settings_;
};

}  // namespace loom::accel
