// Per-head variable-length packed KV cache (see varlen_kv_cache.h).
#include "rank/accel/varlen_kv_cache.h"

#include "common/error.h"
#include "kernels/attention.h"

#include <algorithm>
#include <numeric>

namespace loom::accel {

std::unique_ptr<PerHeadVarlenCache> PerHeadVarlenCache::from_selection(const at::Tensor& keys,
                                                                       const at::Tensor& values,
                                                                       const std::vector<at::Tensor>& kept,
                                                                       int64_t logical_length, int64_t spare_rows) {
  LOOM_CHECK(keys.dim() == 3 && values.sizes() == keys.sizes(), "keys {} / values {} are not [heads, T, dim]",
             c10::str(keys.sizes()), c10::str(values.sizes()));
  const int64_t heads = keys.size(0);
  const int64_t total = keys.size(1);
  LOOM_CHECK(static_cast<int64_t>(kept.size()) == heads, "{} kept lists for {} heads", kept.size(), heads);
  std::unique_ptr<PerHeadVarlenCache> cache(new PerHeadVarlenCache());
  cache->head_dim_ = keys.size(2);
  cache->logical_length_ = logical_length;
  cache->spare_rows_ = std::max<int64_t>(spare_rows, 1);
  const at::Device device = keys.device();
  std::vector<at::Tensor> rows;
  std::vector<at::Tensor> padding_rows;
  int64_t offset = 0;
  // Rows of the flattened [heads * T, dim] source, with each head's spare rows pointing at row 0 (overwritten later).
  for (int64_t h = 0; h < heads; ++h) {
    at::Tensor index = kept[h].to(at::kLong).to(at::kCPU);
    const int64_t n = index.numel();
    cache->offsets_.push_back(offset);
    cache->lengths_.push_back(n);
    cache->capacities_.push_back(n + cache->spare_rows_);
    offset += n + cache->spare_rows_;
    rows.push_back(index + h * total);
    rows.push_back(at::zeros({cache->spare_rows_}, at::kLong));
  }
  at::Tensor all_rows = at::cat(rows).to(device);
  const at::Tensor flat_keys = keys.reshape({heads * total, cache->head_dim_});
  const at::Tensor flat_values = values.reshape({heads * total, cache->head_dim_});
  cache->keys_ = flat_keys.index_select(0, all_rows);
  cache->values_ = flat_values.index_select(0, all_rows);
  cache->positions_ = (all_rows.to(at::kCPU) % std::max<int64_t>(total, 1)).to(at::kInt);
  return cache;
}

int64_t PerHeadVarlenCache::stored_tokens(int64_t kv_head) const {
  LOOM_CHECK(kv_head >= 0 && kv_head < num_kv_heads(), "kv head {} out of range", kv_head);
  return lengths_[kv_head];
}

int64_t PerHeadVarlenCache::bytes() const {
  if (!keys_.defined()) return 0;
  return 2 * keys_.numel() * static_cast<int64_t>(keys_.element_size()) +
         positions_.numel() * static_cast<int64_t>(positions_.element_size());
}

at::Tensor PerHeadVarlenCache::positions(int64_t kv_head) const {
  return positions_.narrow(0, offsets_.at(kv_head), lengths_.at(kv_head)).to(at::kLong).clone();
}

at::Tensor PerHeadVarlenCache::head_keys(int64_t kv_head) const {
  return keys_.narrow(0, offsets_.at(kv_head), lengths_.at(kv_head));
}

at::Tensor PerHeadVarlenCache::head_values(int64_t kv_head) const {
  return values_.narrow(0, offsets_.at(kv_head), lengths_.at(kv_head));
}

void PerHeadVarlenCache::rebuild(const std::vector<int64_t>& new_capacities) {
  const int64_t heads = num_kv_heads();
  const int64_t rows = std::accumulate(new_capacities.begin(), new_capacities.end(), int64_t{0});
  at::Tensor keys = at::empty({rows, head_dim_}, keys_.options());
  at::Tensor values = at::empty({rows, head_dim_}, values_.options());
  at::Tensor positions = at::zeros({rows}, positions_.options());
  std::vector<int64_t> offsets(heads);
  int64_t offset = 0;
  for (int64_t h = 0; h < heads; ++h) {
    offsets[h] = offset;
    const int64_t n = lengths_[h];
    if (n > 0) {
      keys.narrow(0, offset, n).copy_(keys_.narrow(0, offsets_[h], n));
      values.narrow(0, offset, n).copy_(values_.narrow(0, offsets_[h], n));
      positions.narrow(0, offset, n).copy_(positions_.narrow(0, offsets_[h], n));
    }
    offset += new_capacities[h];
  }
  keys_ = keys;
  values_ = values;
  positions_ = positions;
  offsets_ = offsets;
  capacities_ = new_capacities;
}

void PerHeadVarlenCache::append(const at::Tensor& keys, const at::Tensor& values) {
  const int64_t heads = num_kv_heads();
  LOOM_CHECK(keys.dim() == 3 && keys.size(0) == heads && keys.size(2) == head_dim_ && values.sizes() == keys.sizes(),
             "appended keys {} do not fit a varlen cache of {} heads x {} dims", c10::str(keys.sizes()), heads,
             head_dim_);
  const int64_t added = keys.size(1);
  bool full = false;
  for (int64_t h = 0; h < heads; ++h) full = full || lengths_[h] + added > capacities_[h];
  if (full) {
    spare_rows_ *= 2;
    std::vector<int64_t> capacities(heads);
    for (int64_t h = 0; h < heads; ++h) capacities[h] = lengths_[h] + added + spare_rows_;
    rebuild(capacities);
  }
  at::Tensor new_positions = at::arange(logical_length_, logical_length_ + added, positions_.options());
  for (int64_t h = 0; h < heads; ++h) {
    const int64_t start = offsets_[h] + lengths_[h];
    keys_.narrow(0, start, added).copy_(keys[h]);
    values_.narrow(0, start, added).copy_(values[h]);
    positions_.narrow(0, start, added).copy_(new_positions);
    lengths_[h] += added;
  }
  logical_length_ += added;
}

at::Tensor PerHeadVarlenCache::attend(const at::Tensor& queries, double scale) const {
  const int64_t heads = num_kv_heads();
  LOOM_CHECK(queries.dim() == 3 && queries.size(0) % heads == 0 && queries.size(2) == head_dim_,
             "queries {} do not fit a varlen cache of {} KV heads", c10::str(queries.sizes()), heads);
  const int64_t group = queries.size(0) / heads;
  const int64_t t_q = queries.size(1);
  std::vector<at::Tensor> outputs;
  outputs.reserve(heads);
  for (int64_t h = 0; h < heads; ++h) {
    LOOM_CHECK(lengths_[h] >= t_q, "head {} holds {} tokens, fewer than its {} queries", h, lengths_[h], t_q);
    at::Tensor q = queries.narrow(0, h * group, group);
    outputs.push_back(kernels::causal_tail_attention(q, head_keys(h).unsqueeze(0), head_values(h).unsqueeze(0), scale));
  }
  return at::cat(outputs, 0);
}

std::pair<at::Tensor, at::Tensor> PerHeadVarlenCache::dense() const {
  const int64_t heads = num_kv_heads();
  for (int64_t h = 1; h < heads; ++h) {
    LOOM_CHECK(lengths_[h] == lengths_[0], "dense() of a varlen cache whose heads hold {} and {} tokens", lengths_[0],
               lengths_[h]);
  }
  std::vector<at::Tensor> keys;
  std::vector<at::Tensor> values;
  for (int64_t h = 0; h < heads; ++h) {
    keys.push_back(head_keys(h));
    values.push_back(head_values(h));
  }
  return {at::stack(keys), at::stack(values)};
}

void PerHeadVarlenCache::retain(int64_t kv_head, const at::Tensor& rows) {
  LOOM_CHECK(kv_head >= 0 && kv_head < num_kv_heads(), "kv head {} out of range", kv_head);
  at::Tensor index = rows.to(at::kLong).to(keys_.device());
  const int64_t n = index.numel();
  LOOM_CHECK(n <= lengths_[kv_head], "retain {} rows of a head holding {}", n, lengths_[kv_head]);
  at::Tensor kept_keys = head_keys(kv_head).index_select(0, index);
  at::Tensor kept_values = head_values(kv_head).index_select(0, index);
  at::Tensor kept_positions = positions_.narrow(0, offsets_[kv_head], lengths_[kv_head]).index_select(0, index.to(at::kCPU));
  keys_.narrow(0, offsets_[kv_head], n).copy_(kept_keys);
  values_.narrow(0, offsets_[kv_head], n).copy_(kept_values);
  positions_.narrow(0, offsets_[kv_head], n).copy_(kept_positions);
  lengths_[kv_head] = n;
  std::vector<int64_t> capacities(capacities_);
  capacities[kv_head] = n + spare_rows_;
  rebuild(capacities);
}

}  // namespace loom::accel
