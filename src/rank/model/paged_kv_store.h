// PagedKVStore: the KV memory of every decoding sequence of an engine, in pages of one KV head each
// (layout: kernels/cuda/paged_attention.h). One allocator for the full cache and every compressed layout that can
// hand out plain per-head rows (LayerKVCache::head_rows): a head that keeps fewer tokens holds fewer pages, so
// compression frees memory for more sequences, and one decode kernel reads them all.
//
//   slots:   a decoding sequence holds one slot; its rows are (layer, slot * num_kv_heads + kv_head).
//   load():  copies a finished prefill's per-head rows of one layer into freshly allocated pages.
//   prepare_append(): before a decode step, gives every row of the slot a page for its next token.
//   advance(): after the step, the host's lengths follow the device's (the append kernel grew them there).
//   release(): frees the slot's pages.
// Page tables and lengths live on the device ([layers, rows, max_pages] and [layers, rows], int32) with a host
// mirror; changes are queued (the last write to an entry wins) and applied by flush() (one small host-to-device
// copy), which must run before the next kernel that reads them. On the CPU the tables are written in place and the pool grows on demand (doubling,
// up to the budget); on CUDA the pool is allocated once (CUDA graphs keep its address).
#pragma once

#include "kernels/paged_attention.h"
#include "rank/model/pending_writes.h"

#include <ATen/ATen.h>

#include <cstdint>
#include <utility>
#include <vector>

namespace loom::model {

struct PagedKVOptions {
  int64_t num_layers = 0;
  int64_t num_kv_heads = 0;
  int64_t head_dim = 0;
  int64_t page_size = 64;       // tokens per page
  int64_t max_slots = 1;        // sequences decoding at once
  int64_t max_row_tokens = 0;   // longest row (prompt + generated tokens) a slot may hold
  int64_t budget_bytes = 0;     // keys + values of all pages
  at::ScalarType dtype = at::kFloat;
  at::Device device = at::kCPU;
};

class PagedKVStore {
 public:
  explicit PagedKVStore(const PagedKVOptions& options);

  const PagedKVOptions& options() const { return options_; }
  int64_t page_bytes() const;                 // keys + values of one page
  int64_t total_pages() const { return max_pages_; }  // the budget in pages
  int64_t free_pages() const { return max_pages_ - used_pages_; }
  int64_t used_pages() const { return used_pages_; }
  // Bytes of pool pages allocated on the device but holding no tokens (the CUDA pool is allocated up front).
  int64_t idle_bytes() const { return (pool_pages_ - used_pages_) * page_bytes(); }
  // Pages a row of `tokens` tokens needs; pages a sequence of `tokens` tokens in every row needs.
  int64_t pages_for_row(int64_t tokens) const;
  int64_t pages_for_sequence(int64_t tokens) const;

  int64_t free_slots() const { return static_cast<int64_t>(free_slot_list_.size()); }
  int32_t acquire_slot();  // throws when none is free
  void release(int32_t slot);

  // Fills the slot's rows of `layer` with rows[h] = {keys, values}, [n_h, head_dim] each. Throws when the pool is
  // out of pages (nothing is left half-loaded: the slot's pages of this layer are freed first).
  void load(int32_t slot, int64_t layer, const std::vector<std::pair<at::Tensor, at::Tensor>>& rows);
  // Allocates the page for the next token of every row of the slot where needed; returns the pages allocated, or
  // -1 (allocating nothing) when the pool has too few free pages.
  int64_t prepare_append(int32_t slot);
  void advance(int32_t slot);  // host lengths += 1 for every row of the slot
  void flush();

  int64_t row_tokens(int32_t slot, int64_t layer, int64_t kv_head) const;
  // Copies of the keys and values a row holds, [row_tokens, head_dim] each, in stored order (decode-time
  // compression reads a layer back, then load()s the rows it keeps).
  std::pair<at::Tensor, at::Tensor> read_row(int32_t slot, int64_t layer, int64_t kv_head) const;
  int64_t slot_pages(int32_t slot) const;
  int64_t slot_bytes(int32_t slot) const { return slot_pages(slot) * page_bytes(); }
  // Bytes of the keys and values the slot's rows hold (tokens, not pages).
  int64_t slot_token_bytes(int32_t slot) const;

  kernels::PagedLayer layer(int64_t layer) const;

 private:
  int64_t row_index(int32_t slot, int64_t layer, int64_t kv_head) const;
  int32_t allocate_page();
  void free_page(int32_t page);
  void set_table(int64_t flat, int32_t page);
  void set_length(int64_t flat, int32_t length);
  void grow_pool(int64_t pages_needed);

  PagedKVOptions options_;
  int64_t rows_per_layer_ = 0;
  int64_t max_pages_per_row_ = 0;
  int64_t max_pages_ = 0;   // budget
  int64_t used_pages_ = 0;
  at::Tensor key_pool_, value_pool_;  // [allocated pages, page_size, head_dim]
  at::Tensor table_, lengths_;        // device (or CPU) int32
  std::vector<int32_t> free_pages_;   // allocated pool pages not in use
  int64_t pool_pages_ = 0;            // pages the pool tensors hold
  std::vector<std::vector<int32_t>> row_pages_;  // [layer * rows + row]
  std::vector<int32_t> row_lengths_;             // host mirror
  std::vector<int32_t> free_slot_list_;
  std::vector<bool> slot_in_use_;
  PendingWrites pending_table_, pending_lengths_;  // device tables: queued until flush()
};

}  // namespace loom::model
