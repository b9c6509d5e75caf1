// Kept-position selection that is not one top-k over the whole prompt (kvpress v0.5 wrappers of a ScorerPress):
//
//   block_kept   BlockPress: keep the first n_kept positions, then for each following block of `block_size`
//                positions score (kept + block) alone with the scorer and keep its top n_kept; scores are
//                recomputed on each subset (KeyDiff's anchor is the mean over the subset). Scorers that read only
//                keys and values (keydiff); the scorer never sees queries.
//   chunk_kept   ChunkKVPress: the inner scorer's [num_kv_heads, T] scores summed over all KV heads (of every
//                tensor-parallel rank), averaged over chunks of `chunk_length` (the trailing partial chunk is one
//                more chunk); the top max(1, int(n_chunks * keep_fraction)) chunks are kept whole, the same
//                positions for every head. Prompts shorter than one chunk fall back to per-head top n_kept.
//
// Both return the sorted kept positions of each KV head.
#pragma once

#include "rank/accel/token_scorers.h"

#include <ATen/ATen.h>

#include <cstdint>
#include <vector>

namespace loom::accel {

std::vector<at::Tensor> block_kept(const ScorerSettings& scorer, const ScoreInputs& inputs, int64_t n_kept,
                                   int64_t block_size);

// head_sum: scores summed over all KV heads [T] (the caller sums across tensor-parallel ranks).
std::vector<at::Tensor> chunk_kept(const at::Tensor& scores, const at::Tensor& head_sum, int64_t n_kept,
                                   double keep_fraction, int64_t chunk_length);

}  // namespace loom::accel
