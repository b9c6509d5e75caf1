// The dense KV cache: token-major [capacity, num_kv_heads, head_dim] keys and values (the layout fused attention
// kernels read directly, and one whose head and token strides do not depend on the capacity), grown by doubling
// (or straight to the needed size when that is larger), attention through kernels::causal_tail_attention.
#include "rank/model/kv_cache.h"

#include "common/error.h"
#include "kernels/attention.h"

#include <algorithm>

namespace loom::model {

namespace {

class DenseKVCache final : public LayerKVCache {
 public:
  DenseKVCache(int64_t num_kv_heads, int64_t head_dim, at::ScalarType dtype, at::Device device,
               int64_t reserve_tokens)
      : num_kv_heads_(num_kv_heads), head_dim_(head_dim), options_(at::TensorOptions().dtype(dtype).device(device)),
        reserve_tokens_(reserve_tokens) {
    LOOM_CHECK(num_kv_heads > 0 && head_dim > 0, "bad cache shape {} x {}", num_kv_heads, head_dim);
  }

  void append(const at::Tensor& keys, const at::Tensor& values) override {
    LOOM_CHECK(keys.dim() == 3 && keys.size(0) == num_kv_heads_ && keys.size(2) == head_dim_,
               "keys of shape {} do not fit a cache of {} heads x {} dims", c10::str(keys.sizes()), num_kv_heads_, head_dim_);
    LOOM_CHECK(values.sizes() == keys.sizes(), "values {} and keys {} differ in shape", c10::str(values.sizes()),
               c10::str(keys.sizes()));
    const int64_t added = keys.size(1);
    reserve(length_ + added);
    keys_.narrow(0, length_, added).copy_(keys.transpose(0, 1));
    values_.narrow(0, length_, added).copy_(values.transpose(0, 1));
    length_ += added;
  }

  at::Tensor attend(const at::Tensor& queries, double scale) const override {
    LOOM_CHECK(length_ > 0, "attention over an empty cache");
    auto [keys, values] = dense();
    return kernels::causal_tail_attention(queries, keys, values, scale);
  }

  // [num_kv_heads, length, head_dim] views of the token-major storage.
  std::pair<at::Tensor, at::Tensor> dense() const override {
    if (length_ == 0) {
      at::Tensor empty = at::empty({num_kv_heads_, 0, head_dim_}, options_);
      return {empty, empty};
    }
    return {keys_.narrow(0, 0, length_).transpose(0, 1), values_.narrow(0, 0, length_).transpose(0, 1)};
  }

  std::pair<at::Tensor, at::Tensor> head_rows(int64_t kv_head) const override {
    LOOM_CHECK(kv_head >= 0 && kv_head < num_kv_heads_, "kv head {} out of range [0, {})", kv_head, num_kv_heads_);
    if (length_ == 0) {
      at::Tensor empty = at::empty({0, head_dim_}, options_);
      return {empty, empty};
    }
    return {keys_.narrow(0, 0, length_).select(1, kv_head), values_.narrow(0, 0, length_).select(1, kv_head)};
  }

  int64_t logical_length() const override { return length_; }
  int64_t stored_tokens(int64_t kv_head) const override {
    LOOM_CHECK(kv_head >= 0 && kv_head < num_kv_heads_, "kv head {} out of range [0, {})", kv_head, num_kv_heads_);
    return length_;
  }
  int64_t bytes() const override {
    if (!keys_.defined()) return 0;
    return 2 * keys_.numel() * static_cast<int64_t>(keys_.element_size());
  }

 private:
  void reserve(int64_t needed) {
    const int64_t capacity = keys_.defined() ? keys_.size(0) : 0;
    if (needed <= capacity) return;
    const int64_t new_capacity = std::max({needed, 2 * capacity, reserve_tokens_});
    at::Tensor new_keys = at::empty({new_capacity, num_kv_heads_, head_dim_}, options_);
    at::Tensor new_values = at::empty({new_capacity, num_kv_heads_, head_dim_}, options_);
    if (length_ > 0) {
      new_keys.narrow(0, 0, length_).copy_(keys_.narrow(0, 0, length_));
      new_values.narrow(0, 0, length_).copy_(values_.narrow(0, 0, length_));
    }
    keys_ = new_keys;
    values_ = new_values;
  }

  int64_t num_kv_heads_;
  int64_t head_dim_;
  at::TensorOptions options_;
  int64_t reserve_tokens_;
  at::Tensor keys_;
  at::Tensor values_;
  int64_t length_ = 0;
};

}  // namespace

std::unique_ptr<LayerKVCache> make_dense_cache(int64_t num_kv_heads, int64_t head_dim, at::ScalarType dtype,
                                               at::Device device, int64_t reserve_tokens) {
  return std::make_unique<DenseKVCache>(num_kv_heads, head_dim, dtype, device, reserve_tokens);
}

}  // namespace loom::model
