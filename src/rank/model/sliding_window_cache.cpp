// Sliding-window cache: token-major [capacity, num_kv_heads, head_dim] storage holding the positions
// [logical - stored, logical); an append first drops all but the last window - 1 stored tokens.
#include "rank/model/sliding_window_cache.h"

#include "common/error.h"
#include "kernels/attention.h"

#include <algorithm>
#include <limits>

namespace loom::model {

namespace {

// Queries per block of the windowed attention: bounds the fp32 score matrix to heads x 64 x (window + 63).
constexpr int64_t kQueryBlock = 64;

class SlidingWindowKVCache final : public LayerKVCache {
 public:
  SlidingWindowKVCache(int64_t num_kv_heads, int64_t head_dim, int64_t window, at::ScalarType dtype, at::Device device)
      : num_kv_heads_(num_kv_heads), head_dim_(head_dim), window_(window),
        options_(at::TensorOptions().dtype(dtype).device(device)) {
    LOOM_CHECK(num_kv_heads > 0 && head_dim > 0 && window > 0, "bad sliding-window cache {} x {}, window {}",
               num_kv_heads, head_dim, window);
  }

  void append(const at::Tensor& keys, const at::Tensor& values) override {
    LOOM_CHECK(keys.dim() == 3 && keys.size(0) == num_kv_heads_ && keys.size(2) == head_dim_,
               "keys of shape {} do not fit a cache of {} heads x {} dims", c10::str(keys.sizes()), num_kv_heads_,
               head_dim_);
    LOOM_CHECK(values.sizes() == keys.sizes(), "values {} and keys {} differ in shape", c10::str(values.sizes()),
               c10::str(keys.sizes()));
    const int64_t added = keys.size(1);
    const int64_t kept = std::min(stored_, window_ - 1);
    const int64_t needed = kept + added;
    const int64_t capacity = keys_.defined() ? keys_.size(0) : 0;
    // Reallocated when too small, or when a long prefill chunk left it much larger than the window (decode steps
    // then keep a window-sized buffer).
    if (needed > capacity || capacity >= 2 * std::max(needed, window_)) {
      at::Tensor new_keys = at::empty({needed, num_kv_heads_, head_dim_}, options_);
      at::Tensor new_values = at::empty({needed, num_kv_heads_, head_dim_}, options_);
      if (kept > 0) {
        new_keys.narrow(0, 0, kept).copy_(keys_.narrow(0, stored_ - kept, kept));
        new_values.narrow(0, 0, kept).copy_(values_.narrow(0, stored_ - kept, kept));
      }
      keys_ = new_keys;
      values_ = new_values;
    } else if (kept < stored_ && kept > 0) {
      // Shift the kept tail to the front (clone: source and destination may overlap).
      keys_.narrow(0, 0, kept).copy_(keys_.narrow(0, stored_ - kept, kept).clone());
      values_.narrow(0, 0, kept).copy_(values_.narrow(0, stored_ - kept, kept).clone());
    }
    keys_.narrow(0, kept, added).copy_(keys.transpose(0, 1));
    values_.narrow(0, kept, added).copy_(values.transpose(0, 1));
    stored_ = needed;
    logical_ += added;
  }

  at::Tensor attend(const at::Tensor& queries, double scale) const override {
    LOOM_CHECK(stored_ > 0, "attention over an empty cache");
    auto [keys, values] = dense();
    return sliding_window_attention(queries, keys, values, scale, window_);
  }

  std::pair<at::Tensor, at::Tensor> dense() const override {
    if (stored_ == 0) {
      at::Tensor empty = at::empty({num_kv_heads_, 0, head_dim_}, options_);
      return {empty, empty};
    }
    return {keys_.narrow(0, 0, stored_).transpose(0, 1), values_.narrow(0, 0, stored_).transpose(0, 1)};
  }

  int64_t logical_length() const override { return logical_; }
  int64_t stored_tokens(int64_t kv_head) const override {
    LOOM_CHECK(kv_head >= 0 && kv_head < num_kv_heads_, "kv head {} out of range [0, {})", kv_head, num_kv_heads_);
    return stored_;
  }
  int64_t bytes() const override {
    if (!keys_.defined()) return 0;
    return 2 * keys_.numel() * static_cast<int64_t>(keys_.element_size());
  }

 private:
  int64_t num_kv_heads_;
  int64_t head_dim_;
  int64_t window_;
  at::TensorOptions options_;
  at::Tensor keys_;
  at::Tensor values_;
  int64_t stored_ = 0;
  int64_t logical_ = 0;
};

}  // namespace

at::Tensor sliding_window_attention(const at::Tensor& queries, const at::Tensor& keys, const at::Tensor& values,
                                    double scale, int64_t window) {
  const int64_t heads = queries.size(0), t_q = queries.size(1), total = keys.size(1);
  const int64_t kv_heads = keys.size(0), group = heads / kv_heads;
  LOOM_CHECK(t_q <= total && heads == kv_heads * group, "queries {} do not fit keys {}", c10::str(queries.sizes()),
             c10::str(keys.sizes()));
  // Every stored key in reach of every query: the plain causal attention is the windowed one.
  if (total <= window) return kernels::causal_tail_attention(queries, keys, values, scale);
  at::Tensor out = at::empty_like(queries);
  for (int64_t begin = 0; begin < t_q; begin += kQueryBlock) {
    const int64_t count = std::min(kQueryBlock, t_q - begin);
    // Key indices this block reaches: (first query's index - window, last query's index].
    const int64_t first_query = total - t_q + begin, last_query = first_query + count - 1;
    const int64_t key_begin = std::max<int64_t>(0, first_query - window + 1);
    const int64_t key_count = last_query + 1 - key_begin;
    at::Tensor q = queries.narrow(1, begin, count).to(at::kFloat);
    at::Tensor k = keys.narrow(1, key_begin, key_count).to(at::kFloat).repeat_interleave(group, 0);
    at::Tensor v = values.narrow(1, key_begin, key_count).to(at::kFloat).repeat_interleave(group, 0);
    at::Tensor scores = at::matmul(q, k.transpose(1, 2)).mul_(scale);  // [heads, count, key_count]
    at::TensorOptions index = at::TensorOptions().dtype(at::kLong).device(queries.device());
    at::Tensor query_pos = at::arange(first_query, last_query + 1, index).unsqueeze(1);
    at::Tensor key_pos = at::arange(key_begin, last_query + 1, index).unsqueeze(0);
    at::Tensor distance = query_pos - key_pos;
    at::Tensor masked = distance.lt(0).logical_or(distance.ge(window));
    scores.masked_fill_(masked.unsqueeze(0), -std::numeric_limits<float>::infinity());
    out.narrow(1, begin, count).copy_(at::matmul(at::softmax(scores, -1), v));
  }
  return out;
}

std::unique_ptr<LayerKVCache> make_sliding_window_cache(int64_t num_kv_heads, int64_t head_dim, int64_t window,
                                                        at::ScalarType dtype, at::Device device) {
  return std::make_unique<SlidingWindowKVCache>(num_kv_heads, head_dim, window, dtype, device);
}

std::unique_ptr<LayerKVCache> make_layer_cache(const ModelCard& config, AttentionPolicy& policy, int64_t layer) {
  const int64_t window = layer_window(config, layer);
  if (window <= 0) return policy.make_cache(layer);
  const PolicyContext& context = policy.context();
  return make_sliding_window_cache(context.shape.num_kv_heads, context.shape.head_dim, window, context.dtype,
                                   context.device);
}

}  // namespace loom::model
