// Kept-position selection that is not one top-k over the whole prompt (kvpress v0.5 wrapper of a ScorerPress):
//
//   block_kept   BlockPress: keep the first n_kept positions, then for each following block of `block_size`
//                positions score (kept + block) alone with the scorer and keep its top n_kept; scores are
//                recomputed on each subset (KeyDiff's anchor is the mean over the subset). Scorers that read only
//                keys and values (keydiff); the scorer never sees queries.
//
// Returns the sorted kept positions of each KV head.
#pragma once

#include "rank/accel/token_scorers.h"

#include <ATen/ATen.h>

#include <cstdint>
#include <vector>

namespace loom::accel {

std::vector<at::Tensor> block_kept(const ScorerSettings& scorer, const ScoreInputs& inputs, int64_t n_kept,
                                   int64_t block_size);

}  // namespace loom::accel
