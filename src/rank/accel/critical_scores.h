// CriticalKV score re-weighting (kvpress 0.5.5 CriticalKVPress.score, arXiv 2502.03805):
//
//   1. the scorer's top `first_stage` positions of each KV head are marked to be kept (set to the float maximum);
//   2. every other score becomes (score + epsilon) * n[h, t], where n is the L1 norm over the hidden size of the
//      projected value V[t] W_o[head] of each query head, averaged over the query heads of KV head h.
//
// o_proj_weight is the layer's o_proj weight as the engine holds it, [hidden, num_heads * head_dim] (under tensor
// parallelism this rank's columns: its own query heads over the full hidden size, so no communication is needed).
// Returns [num_kv_heads, T] fp32 scores for the uniform top-k.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <vector>

namespace loom::accel {

// scores [num_kv_heads, T]; values [num_kv_heads, T, head_dim]; num_heads: query heads held by this rank.
at::Tensor critical_scores(const at::Tensor& scores, const at::Tensor& values, const at::Tensor& o_proj_weight,
                           int64_t num_heads, int64_t first_stage, double epsilon);

// kvpress CriticalAdaKVPress: AdaKV's head budgets, then CriticalKV's two stages inside each head's budget.
//   adakv_safeguarded: each head's top n_safe = max(1, int(n_kept * alpha_safeguard)) scores (none when alpha is
//     0) set to the float maximum.
//   adakv_head_budgets: the safeguarded scores of every KV head of the layer (all ranks' under TP), [H, T]; the
//     global top H * n_kept entries counted per head.
//   critical_adakv_kept: this rank's heads (scores [h, T], budgets[h]): stage 1 protects each head's top
//     int(budget * first_stage_ratio) safeguarded scores, stage 2 ranks (score + epsilon) * n[h, t] and keeps each
//     head's top budget (kvpress then masks the rest; we store only the kept rows). Returns sorted positions.
at::Tensor adakv_safeguarded(const at::Tensor& scores, int64_t n_kept, double alpha_safeguard);
std::vector<int64_t> adakv_head_budgets(const at::Tensor& safeguarded, int64_t n_kept);
std::vector<at::Tensor> critical_adakv_kept(const at::Tensor& safeguarded, const at::Tensor& values,
                                            const at::Tensor& o_proj_weight, int64_t num_heads,
                                            const std::vector<int64_t>& budgets, double first_stage_ratio,
                                            double epsilon);

// [num_kv_heads, T]: mean over each KV head's query heads of ||V[t] W_o[head]||_1.
at::Tensor projected_value_norm(const at::Tensor& values, const at::Tensor& o_proj_weight, int64_t num_heads);

}  // namespace loom::accel
