// Megatron-style tensor parallelism for the shared decoder (decoder_model.cpp):
//   * attention: query heads and KV heads split in contiguous blocks across the group (column-parallel q/k/v,
//     row-parallel o_proj); each rank attends over its own heads and KV cache;
//   * MLP: gate/up column-parallel, down row-parallel (intermediate size padded with zero columns when it does not
//     divide: silu(0) * 0 = 0, so padding is exact);
//   * mixture-of-experts blocks (Qwen3-MoE): every expert sharded as the MLP over moe_intermediate_size (each rank
//     holds a column block of every expert), the router replicated, so every rank routes identically;
//   * embedding and LM head vocab-parallel (vocab padded with zero rows to a multiple of the group size);
//   * one all-reduce per block half (after o_proj and after down_proj, or the experts' weighted sum); the
//     row-parallel biases are held by group rank 0 only so the sum counts them once; the LM head shards are
//     all-gathered into full logits.
// Each rank loads only its shard (WeightStore slices). A group of one (or no communicator) is the unsharded model.
#pragma once

#include "model_card/model_card.h"
#include "rank/model/weight_store.h"
#include "rank/parallel/communicator.h"

#include <ATen/ATen.h>

#include <cstdint>
#include <string>
#include <vector>

namespace loom::model {

// This rank's share of the model. Ranges are [start, start + count) in the full model's numbering.
struct TensorParallelLayout {
  parallel::Communicator* comm = nullptr;  // null or size 1: no sharding
  int rank = 0;
  int size = 1;
  int64_t heads = 0, head_start = 0;        // query heads
  int64_t kv_heads = 0, kv_head_start = 0;  // KV heads
  int64_t intermediate = 0, intermediate_start = 0;  // padded shard width (columns past the real size are zero)
  int64_t moe_intermediate = 0, moe_intermediate_start = 0;  // each expert's, likewise (Qwen3-MoE)
  int64_t vocab = 0, vocab_start = 0;                // padded shard height (rows past vocab_size are zero)

  bool sharded() const { return size > 1; }
};

// Plans the shards for `tp` (may be null). Throws InputError naming config.json when the heads or KV heads do not
// divide by the group size.
TensorParallelLayout plan_tensor_parallel(const ModelCard& config, parallel::Communicator* tp);

// Loads rows (dim 0) or columns (dim 1) [start, start + count) of a tensor whose full shape is `full_shape`, padding
// with zeros where the range runs past the tensor's end (vocab and intermediate padding).
at::Tensor load_shard(const WeightStore& store, const std::string& name, const std::vector<int64_t>& full_shape,
                      int64_t dim, int64_t start, int64_t count, at::ScalarType dtype, at::Device device);

// Embedding lookup with a vocab-parallel table (rows [vocab_start, vocab_start + vocab)): each rank embeds the ids
// it owns, zeros elsewhere, then the group sums.
at::Tensor vocab_parallel_embedding(const TensorParallelLayout& layout, const at::Tensor& table,
                                    const at::Tensor& ids);

// Sums the partial outputs of a row-parallel layer over the group (in place; no-op unsharded).
void reduce_row_parallel(const TensorParallelLayout& layout, at::Tensor& partial);

// Full-vocabulary fp32 logits from this rank's LM-head shard: all-gathers along the vocab and drops the padding.
at::Tensor vocab_parallel_logits(const TensorParallelLayout& layout, const at::Tensor& hidden,
                                 const at::Tensor& lm_head_shard, int64_t vocab_size);

}  // namespace loom::model
