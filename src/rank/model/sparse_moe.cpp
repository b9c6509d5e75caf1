#include "rank/model/sparse_moe.h"

#include "common/error.h"
#include "kernels/layers.h"

#include <fmt/format.h>

#include <tuple>

namespace loom::model {

int64_t SparseMoeWeights::bytes() const {
  int64_t total = 0;
  for (const at::Tensor* t : {&router, &gate_up, &down}) {
    if (t->defined()) total += t->numel() * static_cast<int64_t>(t->element_size());
  }
  return total;
}

SparseMoeWeights load_sparse_moe(const WeightStore& store, const std::string& prefix, const ModelCard& config,
                                 const TensorParallelLayout& tp, at::ScalarType dtype, at::Device device) {
  const int64_t experts = config.num_experts, hidden = config.hidden_size;
  const int64_t inter = config.moe_intermediate_size;
  const int64_t cols = tp.moe_intermediate, start = tp.moe_intermediate_start;
  SparseMoeWeights w;
  w.top_k = config.num_experts_per_tok;
  w.norm_topk_prob = config.norm_topk_prob;
  w.gelu_tanh = config.activation == "gelu_pytorch_tanh";
  w.router = store.load(prefix + "gate.weight", {experts, hidden}, dtype, device);
  const std::string fused = prefix + "experts.gate_up_proj";
  if (store.contains(fused)) {
    // transformers 5.x: every expert in one tensor; this rank's gate rows and up rows of each.
    const std::vector<int64_t> shape = {experts, 2 * inter, hidden};
    w.gate_up = at::cat({load_shard(store, fused, shape, 1, start, cols, dtype, device),
                         load_shard(store, fused, shape, 1, inter + start, cols, dtype, device)},
                        1);
    w.down = load_shard(store, prefix + "experts.down_proj", {experts, hidden, inter}, 2, start, cols, dtype, device);
    return w;
  }
  // One tensor per expert and projection (the Qwen release, transformers 4.x), copied into the stacked layout.
  const at::TensorOptions options = at::TensorOptions().dtype(dtype).device(device);
  w.gate_up = at::empty({experts, 2 * cols, hidden}, options);
  w.down = at::empty({experts, hidden, cols}, options);
  for (int64_t e = 0; e < experts; ++e) {
    const std::string p = fmt::format("{}experts.{}.", prefix, e);
    w.gate_up[e].narrow(0, 0, cols).copy_(
        load_shard(store, p + "gate_proj.weight", {inter, hidden}, 0, start, cols, dtype, device));
    w.gate_up[e].narrow(0, cols, cols).copy_(
        load_shard(store, p + "up_proj.weight", {inter, hidden}, 0, start, cols, dtype, device));
    w.down[e].copy_(load_shard(store, p + "down_proj.weight", {hidden, inter}, 1, start, cols, dtype, device));
  }
  return w;
}

at::Tensor sparse_moe(const at::Tensor& x, const SparseMoeWeights& w) {
  const int64_t rows = x.size(0), experts = w.router.size(0), k = w.top_k;
  at::Tensor probs = at::softmax(at::linear(x, w.router), -1, at::kFloat);  // [rows, experts]
  at::Tensor top_weights, top_experts;
  std::tie(top_weights, top_experts) = at::topk(probs, k, -1);  // [rows, k], largest first
  if (w.norm_topk_prob) top_weights = top_weights / top_weights.sum(-1, true);
  top_weights = top_weights.to(x.scalar_type());
  // The (token, expert) pairs grouped by expert: pair p = token * k + slot.
  at::Tensor flat_experts = top_experts.reshape({rows * k});
  at::Tensor order = std::get<1>(at::sort(flat_experts, /*stable=*/true, 0, false));
  at::Tensor tokens = at::div(order, k, "floor");
  at::Tensor weights = top_weights.reshape({rows * k}).index_select(0, order).unsqueeze(1);
  at::Tensor counts = at::bincount(flat_experts, {}, experts).to(at::kCPU);  // the block's one host read
  const int64_t* count = counts.data_ptr<int64_t>();
  at::Tensor out = at::zeros_like(x);
  int64_t offset = 0;
  for (int64_t e = 0; e < experts; ++e) {
    const int64_t n = count[e];
    if (n == 0) continue;
    at::Tensor rows_of_e = tokens.narrow(0, offset, n);
    at::Tensor h = kernels::fused_gated_mlp(x.index_select(0, rows_of_e), w.gate_up[e], at::Tensor(), w.down[e],
                                            at::Tensor(), w.gelu_tanh);
    out.index_add_(0, rows_of_e, h * weights.narrow(0, offset, n));
    offset += n;
  }
  return out;
}

}  // namespace loom::model
