// Compactor token scores (kvpress 0.5.5 CompactorPress, Chari & Van Durme 2025): a blend of approximate leverage
// scores of the pre-RoPE keys and non-causal chunked attention, both z-normalised over every head of the layer.
//
//   leverage   keys of the scored span (sinks excluded) un-rotated to pre-RoPE, centred over the span, sketched
//              on the right by a Gaussian [head_dim, sketch_dimension] / sqrt(sketch_dimension) per KV head drawn
//              from torch's CPU generator seeded with `seed` at every layer (kvpress draws from torch's global
//              generator without a seed; its fixture seeds it before each layer), then diag(X (X^T X + jI)^-1 X^T)
//              through a Cholesky factor (jitter j = 1e-2, times 10 on failure, 5 tries), clamped at 0.
//   attention  post-RoPE queries against the span's keys inside chunks of `chunk_size` (no 1/sqrt(d) scale, as
//              kvpress), the last chunk zero-padded with kvpress's masking (padded queries attend uniformly,
//              padded keys get logit -1e-9), softmax in fp32, summed over queries, averaged over each KV head's
//              query group, times ||v||, 1-D average pooling (kernel 3, zero padding counted).
//   final      blending * leverage_z + attention_z, the first `sink_size_start` and last `sink_size_end` tokens
//              padded with the maximum.
// Everything is computed in float32. Under tensor parallelism the sketch is drawn for every KV head of the model
// (this rank takes its block) and the z-normalisation statistics are those of all ranks' heads (all-gathered).
#pragma once

#include "rank/model/attention_policy.h"

#include <ATen/ATen.h>

#include <cstdint>

namespace loom::accel {

struct CompactorSettings {
  int64_t sink_size_start = 8;
  int64_t sink_size_end = 4;
  int64_t chunk_size = 256;
  int64_t sketch_dimension = 48;
  uint64_t seed = 42;
};

struct CompactorInputs {
  at::Tensor keys;      // [num_kv_heads, T, head_dim], post-RoPE (the prompt cache)
  at::Tensor values;    // [num_kv_heads, T, head_dim]
  at::Tensor queries;   // [num_heads, T, head_dim], post-RoPE queries of every prompt position
  at::Tensor inv_freq;  // [head_dim / 2] fp32: the layer's RoPE frequencies (to un-rotate the keys)
  double blending = 0.0;
  parallel::Communicator* tp = nullptr;
};

// [num_kv_heads, T] float32 scores, higher keeps.
at::Tensor compactor_scores(const CompactorSettings& settings, const CompactorInputs& inputs);

// The pieces, over the scored span (sinks removed), each [num_kv_heads, S] before z-normalisation.
at::Tensor leverage_scores(const at::Tensor& pre_rope_keys, const at::Tensor& sketch);
at::Tensor non_causal_chunked_attention(const at::Tensor& queries, const at::Tensor& keys, int64_t chunk_size);

}  // namespace loom::accel
