// Paged KV memory of the decoding sequences (see paged_kv_store.h).
#include "rank/model/paged_kv_store.h"

#include "common/error.h"

#include <algorithm>

namespace loom::model {

namespace {

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

}  // namespace

PagedKVStore::PagedKVStore(const PagedKVOptions& options) : options_(options) {
  LOOM_CHECK(options.num_layers > 0 && options.num_kv_heads > 0 && options.head_dim > 0, "bad KV store shape");
  LOOM_CHECK(options.page_size > 0 && options.max_slots > 0 && options.max_row_tokens > 0,
             "bad KV store sizes: page {} slots {} row tokens {}", options.page_size, options.max_slots,
             options.max_row_tokens);
  rows_per_layer_ = options.max_slots * options.num_kv_heads;
  max_pages_per_row_ = ceil_div(options.max_row_tokens, options.page_size);
  max_pages_ = std::max<int64_t>(0, options.budget_bytes / page_bytes());
  LOOM_CHECK(max_pages_ <= std::numeric_limits<int32_t>::max(), "KV budget of {} pages exceeds int32 page ids",
             max_pages_);
  const at::TensorOptions ints = at::TensorOptions().dtype(at::kInt).device(options.device);
  table_ = at::zeros({options.num_layers, rows_per_layer_, max_pages_per_row_}, ints);
  lengths_ = at::zeros({options.num_layers, rows_per_layer_}, ints);
  row_pages_.resize(static_cast<size_t>(options.num_layers * rows_per_layer_));
  row_lengths_.assign(row_pages_.size(), 0);
  slot_in_use_.assign(static_cast<size_t>(options.max_slots), false);
  for (int64_t s = options.max_slots - 1; s >= 0; --s) free_slot_list_.push_back(static_cast<int32_t>(s));
  if (options.device.is_cuda()) grow_pool(max_pages_);  // once: CUDA graphs keep the pool's address
}

int64_t PagedKVStore::page_bytes() const {
  return 2 * options_.page_size * options_.head_dim * static_cast<int64_t>(c10::elementSize(options_.dtype));
}

int64_t PagedKVStore::pages_for_row(int64_t tokens) const { return ceil_div(std::max<int64_t>(tokens, 0), options_.page_size); }

int64_t PagedKVStore::pages_for_sequence(int64_t tokens) const {
  return options_.num_layers * options_.num_kv_heads * pages_for_row(tokens);
}

void PagedKVStore::grow_pool(int64_t pages_needed) {
  const int64_t target = std::min(max_pages_, std::max({pages_needed, 2 * pool_pages_, int64_t{64}}));
  if (target <= pool_pages_) return;
  const at::TensorOptions opts = at::TensorOptions().dtype(options_.dtype).device(options_.device);
  at::Tensor keys = at::empty({target, options_.page_size, options_.head_dim}, opts);
  at::Tensor values = at::empty({target, options_.page_size, options_.head_dim}, opts);
  if (pool_pages_ > 0) {
    keys.narrow(0, 0, pool_pages_).copy_(key_pool_);
    values.narrow(0, 0, pool_pages_).copy_(value_pool_);
  }
  key_pool_ = keys;
  value_pool_ = values;
  for (int64_t p = target - 1; p >= pool_pages_; --p) free_pages_.push_back(static_cast<int32_t>(p));
  pool_pages_ = target;
}

int32_t PagedKVStore::allocate_page() {
  if (used_pages_ >= max_pages_) return -1;
  if (free_pages_.empty()) grow_pool(pool_pages_ + 1);
  if (free_pages_.empty()) return -1;
  const int32_t page = free_pages_.back();
  free_pages_.pop_back();
  ++used_pages_;
  return page;
}

void PagedKVStore::free_page(int32_t page) {
  free_pages_.push_back(page);
  --used_pages_;
}

int64_t PagedKVStore::row_index(int32_t slot, int64_t layer, int64_t kv_head) const {
  return layer * rows_per_layer_ + static_cast<int64_t>(slot) * options_.num_kv_heads + kv_head;
}

void PagedKVStore::set_table(int64_t flat, int32_t page) {
  if (table_.is_cpu()) {
    table_.data_ptr<int32_t>()[flat] = page;
  } else {
    pending_table_.set(flat, page);
  }
}

void PagedKVStore::set_length(int64_t flat, int32_t length) {
  if (lengths_.is_cpu()) {
    lengths_.data_ptr<int32_t>()[flat] = length;
  } else {
    pending_lengths_.set(flat, length);
  }
}

int32_t PagedKVStore::acquire_slot() {
  LOOM_CHECK(!free_slot_list_.empty(), "no free decode slot (max {})", options_.max_slots);
  const int32_t slot = free_slot_list_.back();
  free_slot_list_.pop_back();
  slot_in_use_[static_cast<size_t>(slot)] = true;
  return slot;
}

void PagedKVStore::release(int32_t slot) {
  LOOM_CHECK(slot >= 0 && slot < options_.max_slots && slot_in_use_[static_cast<size_t>(slot)],
             "release of slot {}, which is not in use", slot);
  for (int64_t layer = 0; layer < options_.num_layers; ++layer) {
    for (int64_t h = 0; h < options_.num_kv_heads; ++h) {
      const int64_t row = row_index(slot, layer, h);
      for (int32_t page : row_pages_[static_cast<size_t>(row)]) free_page(page);
      row_pages_[static_cast<size_t>(row)].clear();
      row_lengths_[static_cast<size_t>(row)] = 0;
      set_length(row, 0);
    }
  }
  slot_in_use_[static_cast<size_t>(slot)] = false;
  free_slot_list_.push_back(slot);
}

std::pair<at::Tensor, at::Tensor> PagedKVStore::read_row(int32_t slot, int64_t layer, int64_t kv_head) const {
  LOOM_CHECK(slot >= 0 && slot < options_.max_slots && slot_in_use_[static_cast<size_t>(slot)],
             "read from slot {}, which is not in use", slot);
  const int64_t row = row_index(slot, layer, kv_head);
  const int64_t n = row_lengths_[static_cast<size_t>(row)];
  const at::Tensor index =
      kernels::paged_row_indices(row_pages_[static_cast<size_t>(row)].data(), n, options_.page_size)
          .to(options_.device);
  return {key_pool_.view({-1, options_.head_dim}).index_select(0, index),
          value_pool_.view({-1, options_.head_dim}).index_select(0, index)};
}

void PagedKVStore::load(int32_t slot, int64_t layer, const std::vector<std::pair<at::Tensor, at::Tensor>>& rows) {
  LOOM_CHECK(slot >= 0 && slot < options_.max_slots && slot_in_use_[static_cast<size_t>(slot)],
             "load into slot {}, which is not in use", slot);
  LOOM_CHECK(static_cast<int64_t>(rows.size()) == options_.num_kv_heads, "{} rows for {} KV heads", rows.size(),
             options_.num_kv_heads);
  const int64_t page_size = options_.page_size;
  int64_t needed = 0;
  for (int64_t h = 0; h < options_.num_kv_heads; ++h) {
    const int64_t row = row_index(slot, layer, h);
    for (int32_t page : row_pages_[static_cast<size_t>(row)]) free_page(page);
    row_pages_[static_cast<size_t>(row)].clear();
    const int64_t n = rows[static_cast<size_t>(h)].first.size(0);
    LOOM_CHECK(pages_for_row(n) <= max_pages_per_row_, "a row of {} tokens exceeds the {} tokens a slot holds", n,
               max_pages_per_row_ * page_size);
    needed += pages_for_row(n);
  }
  if (needed > free_pages()) {
    throw std::runtime_error(fmt::format("the KV cache is full: {} pages needed, {} free of {}", needed, free_pages(),
                                         max_pages_));
  }
  std::vector<at::Tensor> keys, values, destinations;
  for (int64_t h = 0; h < options_.num_kv_heads; ++h) {
    const auto& [k, v] = rows[static_cast<size_t>(h)];
    LOOM_CHECK(k.dim() == 2 && k.size(1) == options_.head_dim && v.sizes() == k.sizes(),
               "rows of head {} are {} / {}, expected [n, {}]", h, c10::str(k.sizes()), c10::str(v.sizes()),
               options_.head_dim);
    const int64_t row = row_index(slot, layer, h);
    const int64_t n = k.size(0);
    std::vector<int32_t>& pages = row_pages_[static_cast<size_t>(row)];
    for (int64_t i = 0; i < pages_for_row(n); ++i) {
      const int32_t page = allocate_page();
      LOOM_CHECK(page >= 0, "page allocation failed after the free-page check");
      set_table(row * max_pages_per_row_ + i, page);
      pages.push_back(page);
    }
    row_lengths_[static_cast<size_t>(row)] = static_cast<int32_t>(n);
    set_length(row, static_cast<int32_t>(n));
    if (n == 0) continue;
    keys.push_back(k);
    values.push_back(v);
    destinations.push_back(kernels::paged_row_indices(pages.data(), n, page_size));
  }
  if (keys.empty()) return;
  at::Tensor dst = at::cat(destinations).to(options_.device);
  key_pool_.view({-1, options_.head_dim}).index_copy_(0, dst, at::cat(keys).to(options_.dtype));
  value_pool_.view({-1, options_.head_dim}).index_copy_(0, dst, at::cat(values).to(options_.dtype));
}

int64_t PagedKVStore::prepare_append(int32_t slot) {
  std::vector<int64_t> rows_needing;
  for (int64_t layer = 0; layer < options_.num_layers; ++layer) {
    for (int64_t h = 0; h < options_.num_kv_heads; ++h) {
      const int64_t row = row_index(slot, layer, h);
      const int64_t length = row_lengths_[static_cast<size_t>(row)];
      if (length / options_.page_size < static_cast<int64_t>(row_pages_[static_cast<size_t>(row)].size())) continue;
      LOOM_CHECK(length / options_.page_size < max_pages_per_row_,
                 "a row reached the {} tokens a slot holds", max_pages_per_row_ * options_.page_size);
      rows_needing.push_back(row);
    }
  }
  if (static_cast<int64_t>(rows_needing.size()) > free_pages()) return -1;
  for (int64_t row : rows_needing) {
    std::vector<int32_t>& pages = row_pages_[static_cast<size_t>(row)];
    const int32_t page = allocate_page();
    LOOM_CHECK(page >= 0, "page allocation failed after the free-page check");
    set_table(row * max_pages_per_row_ + static_cast<int64_t>(pages.size()), page);
    pages.push_back(page);
  }
  return static_cast<int64_t>(rows_needing.size());
}

void PagedKVStore::advance(int32_t slot) {
  for (int64_t layer = 0; layer < options_.num_layers; ++layer) {
    for (int64_t h = 0; h < options_.num_kv_heads; ++h) row_lengths_[static_cast<size_t>(row_index(slot, layer, h))] += 1;
  }
}

void PagedKVStore::flush() {
  const auto apply = [this](at::Tensor& target, PendingWrites& pending) {
    if (pending.empty()) return;
    auto [index, value] = pending.take();  // each entry once: index_put_ with repeated indices keeps any one of them
    at::Tensor idx = at::from_blob(index.data(), {static_cast<int64_t>(index.size())}, at::kLong).to(options_.device);
    at::Tensor val = at::from_blob(value.data(), {static_cast<int64_t>(value.size())}, at::kInt).to(options_.device);
    target.view({-1}).index_put_({idx}, val);
  };
  apply(table_, pending_table_);
  apply(lengths_, pending_lengths_);
}

int64_t PagedKVStore::row_tokens(int32_t slot, int64_t layer, int64_t kv_head) const {
  return row_lengths_[static_cast<size_t>(row_index(slot, layer, kv_head))];
}

int64_t PagedKVStore::slot_pages(int32_t slot) const {
  int64_t pages = 0;
  for (int64_t layer = 0; layer < options_.num_layers; ++layer) {
    for (int64_t h = 0; h < options_.num_kv_heads; ++h) {
      pages += static_cast<int64_t>(row_pages_[static_cast<size_t>(row_index(slot, layer, h))].size());
    }
  }
  return pages;
}

int64_t PagedKVStore::slot_token_bytes(int32_t slot) const {
  int64_t tokens = 0;
  for (int64_t layer = 0; layer < options_.num_layers; ++layer) {
    for (int64_t h = 0; h < options_.num_kv_heads; ++h) tokens += row_lengths_[static_cast<size_t>(row_index(slot, layer, h))];
  }
  return 2 * tokens * options_.head_dim * static_cast<int64_t>(c10::elementSize(options_.dtype));
}

kernels::PagedLayer PagedKVStore::layer(int64_t layer) const {
  kernels::PagedLayer view;
  view.key_pool = key_pool_;
  view.value_pool = value_pool_;
  view.page_table = table_[layer];
  view.lengths = lengths_[layer];
  view.num_kv_heads = options_.num_kv_heads;
  return view;
}

}  // namespace loom::model
