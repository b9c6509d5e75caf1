// PerHeadVarlenCache: a KV cache in which every KV head holds its own number of tokens, stored packed, so that
// head-wise budgets (AdaKV, and every eviction method, whose heads keep different positions) really free memory.
//
// Layout: one buffer of rows [capacity_rows, head_dim] for keys and one for values; KV head h owns rows
// offset(h) .. offset(h) + capacity(h) - 1 of which the first length(h) are used, in increasing original position.
// positions(h) gives the original prompt/decode position of each stored token (int32). Appending adds the new
// tokens to every head; when a head is full the buffer is rebuilt with more spare rows per head (doubling spare).
// attend(): per KV head, causal attention of its query group over the head's rows (the last t_q rows of each
// head are the queries' own tokens). The engine decodes such a cache from its PagedKVStore (head_rows()), so
// attend() serves methods and tests between prefill and paging.
// bytes() = allocated key and value rows plus the position index.
#pragma once

#include "rank/model/kv_cache.h"

#include <ATen/ATen.h>

#include <cstdint>
#include <memory>
#include <vector>

namespace loom::accel {

class PerHeadVarlenCache final : public model::LayerKVCache {
 public:
  // keys/values [num_kv_heads, T, head_dim]; kept[h]: sorted int64 positions (< T) head h keeps.
  // logical_length: tokens ever appended (RoPE positions continue from it). spare_rows: room per head for decode.
  static std::unique_ptr<PerHeadVarlenCache> from_selection(const at::Tensor& keys, const at::Tensor& values,
                                                            const std::vector<at::Tensor>& kept,
                                                            int64_t logical_length, int64_t spare_rows);

  void append(const at::Tensor& keys, const at::Tensor& values) override;
  at::Tensor attend(const at::Tensor& queries, double scale) const override;
  std::pair<at::Tensor, at::Tensor> dense() const override;
  std::pair<at::Tensor, at::Tensor> head_rows(int64_t kv_head) const override {
    return {head_keys(kv_head), head_values(kv_head)};
  }
  int64_t logical_length() const override { return logical_length_; }
  int64_t stored_tokens(int64_t kv_head) const override;
  int64_t bytes() const override;

  int64_t num_kv_heads() const { return static_cast<int64_t>(lengths_.size()); }
  // Original positions of head h's stored tokens (int64 copy, on the CPU).
  at::Tensor positions(int64_t kv_head) const;
  // Stored keys / values of head h, [length(h), head_dim] (views).
  at::Tensor head_keys(int64_t kv_head) const;
  at::Tensor head_values(int64_t kv_head) const;
  // Keeps only the given stored rows (sorted int64 indices into head h's current rows) of head h; the buffer is
  // compacted so the memory is released.
  void retain(int64_t kv_head, const at::Tensor& rows);

 private:
  PerHeadVarlenCache() = default;
  void rebuild(const std::vector<int64_t>& new_capacities);

  at::Tensor keys_;       // [capacity_rows, head_dim]
  at::Tensor values_;     // [capacity_rows, head_dim]
  at::Tensor positions_;  // [capacity_rows] int32
  std::vector<int64_t> offsets_;
  std::vector<int64_t> lengths_;
  std::vector<int64_t> capacities_;
  int64_t head_dim_ = 0;
  int64_t logical_length_ = 0;
  int64_t spare_rows_ = 64;
};

}  // namespace loom::accel
