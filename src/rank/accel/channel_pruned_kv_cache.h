// ChannelPrunedCache: ThinK's key-channel-pruned KV cache that really stores fewer key channels.
//
// Tokens older than the recent window keep, per KV head, only the key channels ThinK kept (packed
// [num_kv_heads, n_old, kept_channels], channel indices per head); the last `recent` prompt tokens and every decoded
// token keep full keys. Values are stored whole. attend(): per KV head, q[kept channels] . k_old and q . k_recent,
// one softmax over both parts, causal over the queries' own (last t_q) tokens.
#pragma once

#include "rank/model/kv_cache.h"

#include <ATen/ATen.h>

#include <memory>

namespace loom::accel {

class ChannelPrunedCache final : public model::LayerKVCache {
 public:
  // keys/values [num_kv_heads, T, head_dim]; kept_channels [num_kv_heads, c] int64; recent: tokens at the end
  // kept with full keys. spare: decode room.
  ChannelPrunedCache(const at::Tensor& keys, const at::Tensor& values, const at::Tensor& kept_channels, int64_t recent,
                     int64_t logical_length, int64_t spare);

  void append(const at::Tensor& keys, const at::Tensor& values) override;
  at::Tensor attend(const at::Tensor& queries, double scale) const override;
  std::pair<at::Tensor, at::Tensor> dense() const override;
  int64_t logical_length() const override { return logical_length_; }
  int64_t stored_tokens(int64_t kv_head) const override { return old_tokens_ + recent_length_; }
  int64_t bytes() const override;

  const at::Tensor& kept_channels() const { return kept_channels_; }

 private:
  void reserve(int64_t recent_needed);

  at::Tensor old_keys_;       // [H, n_old, c]
  at::Tensor kept_channels_;  // [H, c] int64
  at::Tensor recent_keys_;    // [H, capacity, d]
  at::Tensor values_;         // [H, n_old + capacity, d]
  int64_t old_tokens_ = 0;
  int64_t recent_length_ = 0;
  int64_t logical_length_ = 0;
};

}  // namespace loom::accel
