// Qwen3-MoE's sparse mixture-of-experts block (the MLP of the layers ModelCard::sparse_layers marks), as
// transformers' Qwen3MoeSparseMoeBlock computes it: router logits x W_r^T, softmax over the experts in fp32, the
// top-k experts per token (probabilities renormalised to sum 1 when norm_topk_prob), cast to the compute dtype; each
// expert e a SiLU gated MLP down_e(silu(gate_e x) * up_e x) weighted by its probability, summed over the token's
// experts (index_add in the compute dtype, experts in ascending order, as transformers adds them).
// Grouped by expert: the (token, expert) pairs are sorted by expert, each expert's tokens gathered (index_select) and
// run through its MLP as one GEMM pair, then scattered back weighted (index_add). The per-expert token counts are
// read back to the host once per block, so a step through a sparse layer cannot be captured in a CUDA graph.
// Tensor parallelism: each rank holds a column block of every expert's intermediate dimension (as the dense MLP)
// and the whole router; its output is a partial sum for reduce_row_parallel.
// Checkpoint layouts: the per-expert tensors of the Qwen release and transformers 4.x
// (mlp.experts.<e>.{gate,up,down}_proj.weight) or transformers 5.x's fused ones (mlp.experts.gate_up_proj
// [experts, 2 * moe_intermediate, hidden], mlp.experts.down_proj [experts, hidden, moe_intermediate]); the router is
// mlp.gate.weight [experts, hidden] in both.
#pragma once

#include "model_card/model_card.h"
#include "rank/model/tensor_parallel_layers.h"
#include "rank/model/weight_store.h"

#include <ATen/ATen.h>

#include <string>

namespace loom::model {

struct SparseMoeWeights {
  at::Tensor router;   // [experts, hidden], replicated
  at::Tensor gate_up;  // [experts, 2 * shard, hidden]: each expert's gate rows of this rank, then its up rows
  at::Tensor down;     // [experts, hidden, shard]: this rank's columns of each expert's down_proj
  int64_t top_k = 0;
  bool norm_topk_prob = false;
  bool gelu_tanh = false;  // the experts' activation: gelu_pytorch_tanh instead of silu (hidden_act)

  bool defined() const { return router.defined(); }
  int64_t bytes() const;
};

// The block whose tensors are named `prefix` + "gate.weight", "experts..." (prefix: "model.layers.<i>.mlp."), this
// rank's shard in `dtype` on `device`. InputError (from the WeightStore) naming the missing tensor or wrong shape.
SparseMoeWeights load_sparse_moe(const WeightStore& store, const std::string& prefix, const ModelCard& config,
                                 const TensorParallelLayout& tp, at::ScalarType dtype, at::Device device);

// x: [rows, hidden]. Returns this rank's partial output [rows, hidden] in x's dtype (the full output unsharded).
at::Tensor sparse_moe(const at::Tensor& x, const SparseMoeWeights& w);

}  // namespace loom::model
