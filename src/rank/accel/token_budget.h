// How many tokens a KV head keeps after prefill, and the layer- / head-wise budget rules built on it.
//
// TokenBudget: either kvpress's `compression_ratio` r (keep max(1, int(T * (1 - r))) per head, the observation
// window included) or LOOM-Scope / KVCache-Factory's `max_capacity_prompt` C (keep min(T, C) per head, window
// included). The method catalogue allows at most one and supplies the method's default.
// pyramid_layer_budget: PyramidKV's linear schedule over layers (kvpress formula for a ratio, KVCache-Factory's
// integer formula for a capacity). adakv_kept: AdaKV's head-adaptive selection inside one layer.
// cake_adjust_budgets: CAKE's budget clipping/redistribution (cake/utils.py adjust_budgets).
#pragma once

#include "rank/accel/method_params.h"

#include <ATen/ATen.h>

#include <cstdint>
#include <optional>
#include <vector>

namespace loom::accel {

struct TokenBudget {
  std::optional<double> compression_ratio;
  std::optional<int64_t> max_capacity_prompt;

  int64_t kept_tokens(int64_t prompt_length) const;
};

// compression_ratio / max_capacity_prompt as resolved by the catalogue (neither: no token budget).
TokenBudget read_token_budget(const MethodParams& params);

// Tokens layer `layer` keeps (window included) under PyramidKV; equals the uniform budget where PyramidKV falls back.
int64_t pyramid_layer_budget(const TokenBudget& budget, int64_t prompt_length, int64_t window_size, double beta,
                             int64_t layer, int64_t num_layers);

// AdaKV: scores [num_kv_heads, T] (higher keeps). Every head keeps its top int(n_kept * alpha) (at least 1 when
// alpha > 0), then the layer's num_kv_heads * (T - n_kept) lowest remaining scores are evicted across heads.
// Returns the sorted kept positions of each head.
std::vector<at::Tensor> adakv_kept(const at::Tensor& scores, int64_t n_kept, double alpha_safeguard);

// Per head: the n highest-scoring positions, sorted ascending. scores [num_kv_heads, T].
std::vector<at::Tensor> top_k_kept(const at::Tensor& scores, const std::vector<int64_t>& kept_per_head);

std::vector<int64_t> cake_adjust_budgets(const std::vector<int64_t>& budgets, int64_t total_budget, int64_t seq_len);

}  // namespace loom::accel
