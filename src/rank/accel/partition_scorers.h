// Token scores computed from the cached keys and values alone, normalised inside fixed-size partitions of the prompt
// (no queries needed). [num_kv_heads, T] float32, higher = keep. Both follow kvpress v0.5.4:
//
//   cur     CURPress (CurDKV): k2 = ||k||^2 and v2 = ||v||^2, each divided by its sum over consecutive windows of
//           `local_window` tokens (when `local_approximation`), combined by `leverage` (kv_product k2*v2, kv_avg,
//           key, value), divided by the row sum; the first `n_sink` tokens score 1.0. kvpress's optional random
//           Gaussian projection (use_random_leverage) is not offered: its draws cannot be reproduced.
//   lagkv   LagKVPress: after `n_sink` sinks, the prompt is cut into partitions of `lag_size`; each partition's keys
//           (and values) are min-max normalised per channel by the *next* partition, the std over channels is
//           softmaxed within the partition, key and value scores are averaged and replaced by their rank within
//           the partition / lag_size. Sinks and the last (partial) partition score 1.0. Prompts shorter than
//           n_sink + 2 * lag_size score a ramp (sinks 1.0, then increasing), i.e. StreamingLLM.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <string>

namespace loom::accel {

at::Tensor cur_scores(const at::Tensor& keys, const at::Tensor& values, int64_t n_sink, const std::string& leverage,
                      bool local_approximation, int64_t local_window);

at::Tensor lagkv_scores(const at::Tensor& keys, const at::Tensor& values, int64_t n_sink, int64_t lag_size);

}  // namespace loom::accel
