#include "rank/model/sparse_moe.h"

#include "common/error.h"
#include "kernels/layers.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <torch/version.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <tuple>
#include <utility>

// at::_grouped_mm (libtorch 2.8 on): the grouped experts of a CUDA build.
#if defined(LOOM_TORCH_CUDA) && (TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 8))
#define LOOM_HAS_GROUPED_MM 1
#include <ATen/cuda/CUDAContext.h>
#endif

namespace loom::model {

namespace {
bool grouped_experts_agree(const SparseMoeWeights& w);
}  // namespace

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
    w.down = load_shard(store, prefix + "experts.down_proj", {experts, hidden, inter}, 2, start, cols, dtype, device)
                 .contiguous();
    w.grouped = grouped_experts_supported(w) && grouped_experts_agree(w);
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
  w.grouped = grouped_experts_supported(w) && grouped_experts_agree(w);
  return w;
}

namespace {

// Routing as transformers': softmax over the experts in fp32, the top k (largest first), optionally renormalised,
// cast to x's dtype. Returns (weights [rows, k], experts int64 [rows, k]).
std::pair<at::Tensor, at::Tensor> route(const at::Tensor& x, const SparseMoeWeights& w) {
  at::Tensor probs = at::softmax(at::linear(x, w.router), -1, at::kFloat);  // [rows, experts]
  at::Tensor top_weights, top_experts;
  std::tie(top_weights, top_experts) = at::topk(probs, w.top_k, -1);
  if (w.norm_topk_prob) top_weights = top_weights / top_weights.sum(-1, true);
  return {top_weights.to(x.scalar_type()), top_experts};
}

#ifdef LOOM_HAS_GROUPED_MM
bool aligned16(const at::Tensor& t) { return reinterpret_cast<std::uintptr_t>(t.data_ptr()) % 16 == 0; }

// One slice of rows through the grouped GEMMs (see sparse_moe.h); every op stays on the device.
at::Tensor grouped_slice(const at::Tensor& x, const SparseMoeWeights& w) {
  const int64_t rows = x.size(0), hidden = x.size(1), k = w.top_k, experts = w.gate_up.size(0);
  auto [top_weights, top_experts] = route(x, w);
  // Pair p = token * k + slot; sorted by expert (stable: a token's pairs keep their slot order within an expert).
  at::Tensor sorted_experts, order;
  std::tie(sorted_experts, order) = at::sort(top_experts.reshape({rows * k}), /*stable=*/true, 0, false);
  // Group e's rows end where the sorted ids pass e: the cumulative counts, with no count read on the host.
  at::Tensor ends = at::searchsorted(sorted_experts, at::arange(experts, sorted_experts.options()),
                                     /*out_int32=*/true, /*right=*/true);
  at::Tensor rows_sorted = x.index_select(0, at::div(order, k, "floor"));
  // mat_b as the transposed views [experts, hidden, 2 * shard] / [experts, shard, hidden] of the stacked nn.Linear
  // layouts (column-major B, which the kernel takes as is).
  at::Tensor gate_up = at::_grouped_mm(rows_sorted, w.gate_up.transpose(1, 2), ends);
  at::Tensor act = kernels::gated_activation(gate_up, w.gelu_tanh);
  at::Tensor down = at::_grouped_mm(act, w.down.transpose(1, 2), ends);  // [rows * k, hidden], sorted order
  at::Tensor pairs = at::empty({rows * k, hidden}, x.options());
  pairs.index_copy_(0, order, down);  // back in pair order
  return at::sum(pairs.view({rows, k, hidden}) * top_weights.unsqueeze(-1), 1);
}
#endif

}  // namespace

bool grouped_experts_supported(const SparseMoeWeights& w) {
#ifdef LOOM_HAS_GROUPED_MM
  if (!w.defined() || !w.gate_up.defined() || !w.down.defined() || !w.gate_up.is_cuda()) return false;
  if (w.gate_up.scalar_type() != at::kBFloat16 || w.down.scalar_type() != at::kBFloat16) return false;
  if (!w.gate_up.is_contiguous() || !w.down.is_contiguous() || !aligned16(w.gate_up) || !aligned16(w.down)) {
    return false;
  }
  const int64_t experts = w.gate_up.size(0), hidden = w.down.size(1), shard = w.down.size(2);
  if (experts >= 1024 || shard == 0 || hidden % 8 != 0 || shard % 8 != 0) return false;
  const cudaDeviceProp* device = at::cuda::getDeviceProperties(w.gate_up.device().index());
  if (device->major == 9) return true;
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 9)
  return device->major == 10;
#else
  return false;
#endif
#else
  (void)w;
  return false;
#endif
}

at::Tensor sparse_moe_grouped(const at::Tensor& x, const SparseMoeWeights& w) {
  LOOM_CHECK(grouped_experts_supported(w),
             "grouped experts need a CUDA build against libtorch >= 2.8 and bf16 weights on a compute capability "
             "9.x / 10.x device");
  LOOM_CHECK(x.dim() == 2 && x.scalar_type() == at::kBFloat16 && x.device() == w.gate_up.device(),
             "grouped experts: x must be [rows, hidden] bf16 on the weights' device");
#ifdef LOOM_HAS_GROUPED_MM
  const at::Tensor input = x.contiguous();
  const int64_t rows = input.size(0);
  if (rows == 0) return at::zeros_like(input);
  if (rows <= kMoeSliceRows) return grouped_slice(input, w);
  at::Tensor out = at::empty_like(input);
  for (int64_t start = 0; start < rows; start += kMoeSliceRows) {
    const int64_t count = std::min(kMoeSliceRows, rows - start);
    out.narrow(0, start, count).copy_(grouped_slice(input.narrow(0, start, count), w));
  }
  return out;
#else
  return at::Tensor();
#endif
}

at::Tensor sparse_moe_per_expert(const at::Tensor& x, const SparseMoeWeights& w) {
  const int64_t rows = x.size(0), experts = w.router.size(0), k = w.top_k;
  auto [top_weights, top_experts] = route(x, w);
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

at::Tensor sparse_moe(const at::Tensor& x, const SparseMoeWeights& w) {
  if (w.grouped && x.scalar_type() == at::kBFloat16 && x.device() == w.gate_up.device()) {
    return sparse_moe_grouped(x, w);
  }
  return sparse_moe_per_expert(x, w);
}

namespace {

// The grouped path against the per-expert one on this block's own weights (64 random rows), once per block at load:
// the grouped path is used only when they agree (relative error < 2e-2, as the prefill attention self-check), so a
// kernel that misbehaves on a device or a libtorch build falls back to the per-expert path with a warning.
bool grouped_experts_agree(const SparseMoeWeights& w) {
  try {
    const at::Tensor x = at::randn({64, w.router.size(1)}, w.gate_up.options());
    const at::Tensor expected = sparse_moe_per_expert(x, w).to(at::kFloat);
    const at::Tensor got = sparse_moe_grouped(x, w).to(at::kFloat);
    const double error = ((got - expected).norm() / expected.norm().clamp_min(1e-30)).item<double>();
    if (std::isfinite(error) && error < 2e-2) return true;
    spdlog::warn("grouped experts disagree with the per-expert path (relative error {:.3g}): experts run one by one",
                 error);
  } catch (const std::exception& e) {
    spdlog::warn("grouped experts self-check failed ({}): experts run one by one", e.what());
  }
  return false;
}

}  // namespace

}  // namespace loom::model
