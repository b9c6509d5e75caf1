// ThinK's channel-pruned KV cache (see channel_pruned_kv_cache.h).
#include "rank/accel/channel_pruned_kv_cache.h"

#include "common/error.h"

#include <algorithm>
#include <limits>

namespace loom::accel {

ChannelPrunedCache::ChannelPrunedCache(const at::Tensor& keys, const at::Tensor& values,
                                       const at::Tensor& kept_channels, int64_t recent, int64_t logical_length,
                                       int64_t spare)
    : logical_length_(logical_length) {
  const int64_t heads = keys.size(0);
  const int64_t total = keys.size(1);
  const int64_t dim = keys.size(2);
  recent = std::min(recent, total);
  old_tokens_ = total - recent;
  recent_length_ = recent;
  kept_channels_ = kept_channels.to(keys.device()).to(at::kLong);
  const int64_t channels = kept_channels_.size(1);
  at::Tensor index = kept_channels_.unsqueeze(1).expand({heads, old_tokens_, channels});
  old_keys_ = keys.narrow(1, 0, old_tokens_).gather(2, index).contiguous();
  const int64_t capacity = recent + std::max<int64_t>(spare, 1);
  recent_keys_ = at::empty({heads, capacity, dim}, keys.options());
  recent_keys_.narrow(1, 0, recent).copy_(keys.narrow(1, old_tokens_, recent));
  values_ = at::empty({heads, old_tokens_ + capacity, dim}, values.options());
  values_.narrow(1, 0, total).copy_(values);
}

void ChannelPrunedCache::reserve(int64_t recent_needed) {
  if (recent_needed <= recent_keys_.size(1)) return;
  const int64_t capacity = std::max(recent_needed, 2 * recent_keys_.size(1));
  at::Tensor keys = at::empty({recent_keys_.size(0), capacity, recent_keys_.size(2)}, recent_keys_.options());
  keys.narrow(1, 0, recent_length_).copy_(recent_keys_.narrow(1, 0, recent_length_));
  at::Tensor values = at::empty({values_.size(0), old_tokens_ + capacity, values_.size(2)}, values_.options());
  values.narrow(1, 0, old_tokens_ + recent_length_).copy_(values_.narrow(1, 0, old_tokens_ + recent_length_));
  recent_keys_ = keys;
  values_ = values;
}

void ChannelPrunedCache::append(const at::Tensor& keys, const at::Tensor& values) {
  const int64_t added = keys.size(1);
  reserve(recent_length_ + added);
  recent_keys_.narrow(1, recent_length_, added).copy_(keys);
  values_.narrow(1, old_tokens_ + recent_length_, added).copy_(values);
  recent_length_ += added;
  logical_length_ += added;
}

at::Tensor ChannelPrunedCache::attend(const at::Tensor& queries, double scale) const {
  const int64_t heads = recent_keys_.size(0);
  const int64_t group = queries.size(0) / heads;
  const int64_t t_q = queries.size(1);
  const int64_t total = old_tokens_ + recent_length_;
  LOOM_CHECK(recent_length_ >= t_q, "ThinK cache: {} recent tokens for {} queries", recent_length_, t_q);
  std::vector<at::Tensor> outputs;
  for (int64_t h = 0; h < heads; ++h) {
    at::Tensor q = queries.narrow(0, h * group, group).to(at::kFloat);  // [G, t_q, d]
    at::Tensor q_kept = q.index_select(2, kept_channels_[h]);
    at::Tensor old_scores = at::matmul(q_kept, old_keys_[h].to(at::kFloat).t());  // [G, t_q, n_old]
    at::Tensor recent_scores =
        at::matmul(q, recent_keys_[h].narrow(0, 0, recent_length_).to(at::kFloat).t());  // [G, t_q, n_recent]
    at::Tensor logits = at::cat({old_scores, recent_scores}, -1) * scale;
    at::Tensor q_pos = at::arange(total - t_q, total, logits.options().dtype(at::kLong)).unsqueeze(1);
    at::Tensor k_pos = at::arange(total, logits.options().dtype(at::kLong)).unsqueeze(0);
    logits.masked_fill_((k_pos > q_pos).unsqueeze(0), -std::numeric_limits<float>::infinity());
    at::Tensor probs = at::softmax(logits, -1);
    outputs.push_back(at::matmul(probs, values_[h].narrow(0, 0, total).to(at::kFloat)));
  }
  return at::cat(outputs, 0).to(queries.scalar_type());
}

std::pair<at::Tensor, at::Tensor> ChannelPrunedCache::dense() const {
  const int64_t heads = recent_keys_.size(0);
  const int64_t dim = recent_keys_.size(2);
  at::Tensor old_full = at::zeros({heads, old_tokens_, dim}, recent_keys_.options());
  old_full.scatter_(2, kept_channels_.unsqueeze(1).expand({heads, old_tokens_, kept_channels_.size(1)}), old_keys_);
  at::Tensor keys = at::cat({old_full, recent_keys_.narrow(1, 0, recent_length_)}, 1);
  return {keys, values_.narrow(1, 0, old_tokens_ + recent_length_)};
}

int64_t ChannelPrunedCache::bytes() const {
  return old_keys_.numel() * static_cast<int64_t>(old_keys_.element_size()) +
         recent_keys_.numel() * static_cast<int64_t>(recent_keys_.element_size()) +
         values_.numel() * static_cast<int64_t>(values_.element_size()) +
         kept_channels_.numel() * static_cast<int64_t>(kept_channels_.element_size());
}

}  // namespace loom::accel
