// CUDA kernels of the paged per-head KV cache (src/rank/model/paged_kv_cache.h). Raw device pointers and a Params
// struct per kernel; no libtorch types, so this header and paged_attention.cu build with nvcc alone.
//
// Layout. Keys and values live in two pools of pages, [num_pages, page_size, head_dim] each; a page holds
// page_size consecutive tokens of ONE KV head of one sequence in one layer. A "row" is (slot, kv_head) of a layer:
// row = slot * num_kv_heads + kv_head; page_table[row * max_pages_per_row + i] is the page of the row's tokens
// [i * page_size, (i + 1) * page_size); lengths[row] counts the row's tokens. Rows of one sequence may hold
// different numbers of tokens (per-head budgets), and so may layers (each layer has its own table and lengths).
//
// Decode batch. Entry b of a batch of `batch` queries belongs to the sequence in slot slot_of[b]; slot_of[b] < 0
// marks a padding entry (CUDA-graph buckets), which both kernels skip (attention writes zeros for it). Nothing
// on the host depends on lengths or tables, so both kernels can be captured in a CUDA graph and replayed while the
// caches grow.
//   paged_append: writes the batch's new key/value token of every KV head at position lengths[row] and increments
//                 lengths[row]; the page for that position must already be in the table.
//   paged_decode_attention: one query per query head over every token of its KV head's row (group = num_heads /
//                 num_kv_heads query heads per row, as transformers' repeat_kv), split over num_splits page ranges
//                 per row (flash-decoding), then combined. fp32 accumulation.
#pragma once

#include "kernels/cuda/accel_kernels.h"

#include <cuda_runtime_api.h>

#include <cstdint>

namespace loom::kernels::cuda {

struct PagedLayerView {
  void* key_pool = nullptr;           // [num_pages, page_size, head_dim]
  void* value_pool = nullptr;         // [num_pages, page_size, head_dim]
  const int32_t* page_table = nullptr;  // [rows, max_pages_per_row] of this layer
  int32_t* lengths = nullptr;         // [rows] of this layer
  int64_t max_pages_per_row = 0;
  int32_t page_size = 0;
};

struct PagedAppendParams {
  ElementType type = ElementType::kBFloat16;
  PagedLayerView layer;
  const void* keys = nullptr;    // [batch, num_kv_heads, head_dim], contiguous
  const void* values = nullptr;  // [batch, num_kv_heads, head_dim], contiguous
  const int32_t* slot_of = nullptr;  // [batch]
  int32_t batch = 0;
  int32_t num_kv_heads = 0;
  int32_t head_dim = 0;
};

struct PagedDecodeParams {
  ElementType type = ElementType::kBFloat16;
  PagedLayerView layer;
  const void* q = nullptr;  // [batch, num_heads, head_dim], contiguous
  void* out = nullptr;      // [batch, num_heads, head_dim], contiguous
  const int32_t* slot_of = nullptr;  // [batch]
  int32_t batch = 0;
  int32_t num_heads = 0;
  int32_t num_kv_heads = 0;
  int32_t head_dim = 0;
  int32_t num_splits = 1;   // page ranges per row, 1 .. kMaxSplits (kernels::decode_splits)
  float scale = 1.0f;
  float* workspace = nullptr;  // paged_decode_workspace_floats() floats
};

// Whether the kernels take this element type and head_dim (64, 128 or 256; any group size).
bool paged_attention_supported(ElementType type, int64_t head_dim);

constexpr int32_t kMaxSplits = 64;

// What the split count of a decode batch depends on.
struct PagedDecodeShape {
  ElementType type = ElementType::kBFloat16;
  int64_t head_dim = 0;
  int64_t group = 1;  // query heads per KV head
  int64_t batch = 0;
  int64_t num_kv_heads = 0;
};

struct PagedDecodeOccupancy {
  int64_t blocks_per_split = 1;  // blocks of the partial kernel per split: rows x blocks per query-head group
  int64_t blocks_per_sm = 1;     // resident blocks of that kernel instance per SM (CUDA occupancy)
};
PagedDecodeOccupancy paged_decode_occupancy(const PagedDecodeShape& shape);

int64_t paged_decode_workspace_floats(int64_t batch, int64_t num_heads, int64_t head_dim, int64_t num_splits);

cudaError_t paged_append(const PagedAppendParams& params, cudaStream_t stream);
cudaError_t paged_decode_attention(const PagedDecodeParams& params, cudaStream_t stream);

}  // namespace loom::kernels::cuda
