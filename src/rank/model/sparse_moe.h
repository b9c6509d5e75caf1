// Qwen3-MoE's sparse mixture-of-experts block (the MLP of the layers ModelCard::sparse_layers marks), as
// transformers' Qwen3MoeSparseMoeBlock computes it: router logits x W_r^T, softmax over the experts in fp32, the
// top-k experts per token (probabilities renormalised to sum 1 when norm_topk_prob), cast to the compute dtype; each
// expert e a gated MLP down_e(act(gate_e x) * up_e x) (act silu, or gelu-tanh per hidden_act) weighted by its
// probability, summed over the token's experts (the order and precision of that sum differ by path, below).
// Two computations of the experts, chosen per call (sparse_moe):
//  - grouped GEMMs (CUDA build against libtorch >= 2.8, weights and x bf16 on a CUDA device of compute capability
//    9.x, or 10.x with libtorch >= 2.9: the devices where at::_grouped_mm runs its CUTLASS kernel, which reads the
//    group offsets on the device; elsewhere it falls back to a loop that copies them to the host): the flattened
//    (token, slot) pairs stably sorted by expert on the device, the group ends (cumulative counts, int32) found by
//    searchsorted on the sorted ids, the pairs' rows gathered, then at::_grouped_mm(rows, gate_up^T, ends), the gated
//    activation, at::_grouped_mm(act, down^T, ends) (the transposed views of the stacked weights, no copy), each
//    pair's output multiplied by its probability, put back in pair order and summed over the token's k slots
//    (fp32 accumulation, one rounding). Nothing is read back to the host and every size depends only on the row
//    count, so a decode step through it can be captured in a CUDA graph (decode_graphs.h). Rows are processed in
//    slices of kMoeSliceRows so the [rows * k, hidden] intermediates stay bounded.
//  - per expert (everywhere else: CPU, other dtypes and devices, libtorch 1.13): the pairs sorted by expert, each
//    expert's tokens gathered (index_select) and run through its MLP as one GEMM pair, then scattered back weighted
//    (index_add, experts in ascending order as transformers adds them). The per-expert token counts are read back
//    to the host once per block, so a step through it cannot be captured in a CUDA graph.
// At load, a block whose weights allow the grouped path runs both paths on 64 random rows and keeps the grouped one
// only when they agree (relative error < 2e-2); otherwise it warns and runs per expert.
// The two agree to bf16 rounding (they add the k weighted outputs in different orders). The grouped path is only
// compile-checked on the (GPU-less) development machine; `bench/engine_kernels --only moe` checks it on the GPU
// against the per-expert one and an fp32 reference, and inside a CUDA graph capture.
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
  bool grouped = false;    // grouped_experts_supported(*this), set at load: sparse_moe runs the grouped GEMMs

  bool defined() const { return router.defined(); }
  int64_t bytes() const;
};

// The block whose tensors are named `prefix` + "gate.weight", "experts..." (prefix: "model.layers.<i>.mlp."), this
// rank's shard in `dtype` on `device`. InputError (from the WeightStore) naming the missing tensor or wrong shape.
SparseMoeWeights load_sparse_moe(const WeightStore& store, const std::string& prefix, const ModelCard& config,
                                 const TensorParallelLayout& tp, at::ScalarType dtype, at::Device device);

constexpr int64_t kMoeSliceRows = 4096;

// x: [rows, hidden]. Returns this rank's partial output [rows, hidden] in x's dtype (the full output unsharded).
// The grouped path when w.grouped and x is bf16 on w's device, else the per-expert path.
at::Tensor sparse_moe(const at::Tensor& x, const SparseMoeWeights& w);

// Whether this build and w's device run the grouped path for w without a host synchronisation (see above): a CUDA
// build against libtorch >= 2.8, bf16 weights on a CUDA device of compute capability 9.x (10.x from libtorch 2.9),
// fewer than 1024 experts, hidden size and shard multiples of 8 (16-byte rows for the kernel's TMA loads).
bool grouped_experts_supported(const SparseMoeWeights& w);

// The two computations themselves (tests and bench/engine_kernels). sparse_moe_grouped needs
// grouped_experts_supported(w) (a LOOM_CHECK error otherwise) and x bf16 on w's device.
at::Tensor sparse_moe_grouped(const at::Tensor& x, const SparseMoeWeights& w);
at::Tensor sparse_moe_per_expert(const at::Tensor& x, const SparseMoeWeights& w);

}  // namespace loom::model
