// Decode-time compression: kvpress 0.5.5 DecodingPress(base_press, compression_interval, target_size,
// hidden_states_buffer_size) over one of our scorers (snapkv, tova, knorm, keydiff).
//
// The prefill is left alone (the dense cache is paged as with `full`). While decoding, every
// compression_interval steps (or at once after a forward of at least target_size tokens) the engine hands each
// full-attention layer's whole cache and the buffered decode queries to decode_kept_rows (the bookkeeping is
// rank/model/decode_compression.h). As kvpress: when the cache holds T > target_size tokens, a ratio r is found by
// DecodingPress's binary search so that int(T * (1 - r)) == target_size, the scorer scores the cache with the
// buffered queries as its observation window, and each KV head keeps its top max(1, int(T * (1 - r))) rows in
// topk order (ScorerPress.compress keeps them unsorted; row order matters to later windows and pooling);
// T <= target_size keeps everything. SnapKV needs more buffered queries than its window (kvpress asserts it):
// the catalogue asks for compression_interval > window_size and hidden_states_buffer_size >= window_size.
#pragma once

#include "rank/accel/eviction_policy.h"
#include "rank/accel/token_scorers.h"
#include "rank/model/attention_policy.h"

#include <memory>
#include <string>
#include <vector>

namespace loom::accel {

struct DecodingSettings {
  std::string name;
  ScorerSettings scorer;
  int64_t compression_interval = 512;
  int64_t target_size = 2048;
  int64_t hidden_states_buffer_size = 256;
  // >= 0: kvpress CompressionRatioDecodingPress: the target is max(1, int(S * (1 - r))), S the tokens seen so far.
  double target_compression_ratio = -1.0;
};

// kvpress DecodingPress._find_target_compression_ratio: the ratio r with int(T * (1 - r)) == target (0 when
// T <= target), by the same 20-step bisection (so a failed search gives the same r).
double decoding_target_ratio(int64_t total, int64_t target);

class DecodingPolicy final : public model::AttentionPolicy {
 public:
  DecodingPolicy(model::PolicyContext context, DecodingSettings settings)
      : AttentionPolicy(std::move(context)), settings_(std::move(settings)) {}

  bool keeps_prefill_cache() const override { return true; }
  model::DecodeCompression decode_compression() const override;
  std::vector<at::Tensor> decode_kept_rows(const at::Tensor& keys, const at::Tensor& values,
                                           const model::DecodeSummary& summary) override;

 private:
  DecodingSettings settings_;
};

class DecodingPolicyFactory final : public model::AttentionPolicyFactory {
 public:
  explicit DecodingPolicyFactory(DecodingSettings settings) : settings_(std::move(settings)) {}
  std::unique_ptr<model::AttentionPolicy> create(const model::PolicyContext& context) const override {
    return std::make_unique<DecodingPolicy>(context, settings_);
  }
  std::string name() const override { return settings_.name; }

 private:
  DecodingSettings settings_;
};

// kvpress PrefillDecodingPress(prefilling_press, decoding_press): the prefill is compressed by an eviction policy
// (finish_prefill, a varlen cache), decoding by a DecodingPolicy over the compressed cache.
class PrefillDecodingPolicy final : public model::AttentionPolicy {
 public:
  PrefillDecodingPolicy(const model::PolicyContext& context, const EvictionSettings& prefill,
                        const DecodingSettings& decoding)
      : AttentionPolicy(context), prefill_(context, prefill), decoding_(context, decoding) {}

  void begin_sequence(int64_t prompt_length) override { prefill_.begin_sequence(prompt_length); }
  std::unique_ptr<model::LayerKVCache> finish_prefill(std::unique_ptr<model::LayerKVCache> cache,
                                                      const model::PrefillSummary& summary) override {
    return prefill_.finish_prefill(std::move(cache), summary);
  }
  int64_t observation_window() const override { return prefill_.observation_window(); }
  model::DecodeCompression decode_compression() const override { return decoding_.decode_compression(); }
  std::vector<at::Tensor> decode_kept_rows(const at::Tensor& keys, const at::Tensor& values,
                                           const model::DecodeSummary& summary) override {
    return decoding_.decode_kept_rows(keys, values, summary);
  }

 private:
  EvictionPolicy prefill_;
  DecodingPolicy decoding_;
};

class PrefillDecodingPolicyFactory final : public model::AttentionPolicyFactory {
 public:
  PrefillDecodingPolicyFactory(EvictionSettings prefill, DecodingSettings decoding)
      : prefill_(std::move(prefill)), decoding_(std::move(decoding)) {}
  std::unique_ptr<model::AttentionPolicy> create(const model::PolicyContext& context) const override {
    return std::make_unique<PrefillDecodingPolicy>(context, prefill_, decoding_);
  }
  std::string name() const override { return prefill_.name; }

 private:
  EvictionSettings prefill_;
  DecodingSettings decoding_;
};

}  // namespace loom::accel
