// CUDA-graph decode steps (see decode_graphs.h).
#include "rank/model/decode_graphs.h"

#include "common/error.h"
#include "kernels/paged_attention.h"

#ifdef LOOM_TORCH_CUDA
#include <ATen/cuda/CUDAContext.h>
#include <ATen/cuda/CUDAEvent.h>
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#endif

#include <map>

namespace loom::model {

int64_t decode_bucket(int64_t batch, int64_t max_batch) {
  static const int64_t buckets[] = {1, 2, 4, 8, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512};
  for (int64_t b : buckets) {
    if (b >= batch) return std::min(b, std::max(batch, max_batch));
  }
  return std::max(batch, max_batch);
}

#ifdef LOOM_TORCH_CUDA

struct DecodeGraphs::Impl {
  struct Graph {
    std::unique_ptr<at::cuda::CUDAGraph> graph;
    DecodeOutput output;
  };

  DecoderModel& model;
  const PagedKVStore& store;
  int64_t max_batch;
  at::Tensor ids, positions, slots;  // static device buffers [max_batch]
  std::map<int64_t, Graph> graphs;   // bucket -> graph
  std::map<int64_t, int64_t> splits;  // bucket -> decode splits (splits_for)
  at::cuda::MempoolId_t pool;

  Impl(DecoderModel& m, const PagedKVStore& s, int64_t max) : model(m), store(s), max_batch(max) {
    const at::TensorOptions device = at::TensorOptions().device(model.device());
    ids = at::zeros({max_batch}, device.dtype(at::kLong));
    positions = at::zeros({max_batch}, device.dtype(at::kLong));
    slots = at::full({max_batch}, -1, device.dtype(at::kInt));
    pool = at::cuda::graph_pool_handle();
  }

  DecodeOutput forward(int64_t rows) {
    DecodeStep step;
    step.token_ids = ids.narrow(0, 0, rows);
    step.positions = positions.narrow(0, 0, rows);
    step.slot_of = slots.narrow(0, 0, rows);
    step.store = &store;
    step.num_splits = splits_for(rows);
    DecodeOutput out;
    out.logits = model.forward_decode(step);
    out.greedy = out.logits.argmax(1);
    out.finite = at::isfinite(out.logits).all(1);
    return out;
  }

  // Decode splits per bucket, chosen on the first (warm-up, uncaptured) forward: the occupancy query it makes is
  // not repeated inside a capture.
  int64_t splits_for(int64_t rows) {
    auto it = splits.find(rows);
    if (it != splits.end()) return it->second;
    const PagedKVOptions& kv = store.options();
    const int64_t group = model.config().num_heads / model.config().num_kv_heads;
    return splits.emplace(rows, kernels::decode_splits(rows, kv.num_kv_heads, group, kv.head_dim, kv.dtype))
        .first->second;
  }

  Graph& graph_for(int64_t rows) {
    auto it = graphs.find(rows);
    if (it != graphs.end()) return it->second;
    // Capture with every slot -1 (padding): the kernels skip every entry, so no cache changes.
    slots.narrow(0, 0, rows).fill_(-1);
    at::cuda::CUDAStream side = at::cuda::getStreamFromPool();
    at::cuda::CUDAStream main = at::cuda::getCurrentCUDAStream();
    at::cuda::CUDAEvent ready;
    ready.record(main);
    ready.block(side);
    Graph g;
    {
      c10::cuda::CUDAStreamGuard guard(side);
      forward(rows);  // warm-up on the capture stream: library handles and workspaces are created outside capture
      side.synchronize();
      g.graph = std::make_unique<at::cuda::CUDAGraph>();
      g.graph->capture_begin(pool, cudaStreamCaptureModeThreadLocal);
      try {
        g.output = forward(rows);
      } catch (...) {
        try {
          g.graph->capture_end();  // leave capture mode; the graph is discarded
        } catch (...) {
        }
        throw;
      }
      g.graph->capture_end();
    }
    at::cuda::CUDAEvent captured;
    captured.record(side);
    captured.block(main);
    return graphs.emplace(rows, std::move(g)).first->second;
  }

  DecodeOutput run(const std::vector<int64_t>& token_ids, const std::vector<int64_t>& token_positions,
                   const std::vector<int32_t>& token_slots) {
    const int64_t batch = static_cast<int64_t>(token_ids.size());
    const int64_t rows = decode_bucket(batch, max_batch);
    LOOM_CHECK(rows <= max_batch, "decode batch {} exceeds the {} graph rows", batch, max_batch);
    Graph& g = graph_for(rows);
    // Inputs: one pinned host block, one copy per buffer.
    at::Tensor host = at::empty({3, rows}, at::TensorOptions().dtype(at::kLong).pinned_memory(true));
    int64_t* h = host.data_ptr<int64_t>();
    for (int64_t b = 0; b < rows; ++b) {
      const bool real = b < batch;
      h[b] = real ? token_ids[static_cast<size_t>(b)] : 0;
      h[rows + b] = real ? token_positions[static_cast<size_t>(b)] : 0;
      h[2 * rows + b] = real ? token_slots[static_cast<size_t>(b)] : -1;
    }
    at::Tensor device_block = host.to(model.device(), /*non_blocking=*/true);
    ids.narrow(0, 0, rows).copy_(device_block[0], /*non_blocking=*/true);
    positions.narrow(0, 0, rows).copy_(device_block[1], /*non_blocking=*/true);
    slots.narrow(0, 0, rows).copy_(device_block[2].to(at::kInt), /*non_blocking=*/true);
    g.graph->replay();
    return g.output;
  }
};

DecodeGraphs::DecodeGraphs(DecoderModel& model, const PagedKVStore& store, int64_t max_batch, bool enabled) {
  const at::Tensor probe = at::empty({1, 1, model.config().head_dim},
                                     at::TensorOptions().dtype(model.dtype()).device(model.device()));
  usable_ = enabled && model.device().is_cuda() && model.static_rope() && !model.tensor_parallel().sharded() &&
            model.mlp_capturable() &&
            kernels::paged_kernels_available(probe);
  if (usable_) impl_ = std::make_unique<Impl>(model, store, max_batch);
}

DecodeOutput DecodeGraphs::run(const std::vector<int64_t>& ids, const std::vector<int64_t>& positions,
                               const std::vector<int32_t>& slots) {
  LOOM_CHECK(usable_, "CUDA-graph decode is not usable here");
  return impl_->run(ids, positions, slots);
}

void DecodeGraphs::disable() {
  usable_ = false;
  impl_.reset();
}

int64_t DecodeGraphs::captured() const { return impl_ ? static_cast<int64_t>(impl_->graphs.size()) : 0; }

#else

struct DecodeGraphs::Impl {};

DecodeGraphs::DecodeGraphs(DecoderModel&, const PagedKVStore&, int64_t, bool) {}

DecodeOutput DecodeGraphs::run(const std::vector<int64_t>&, const std::vector<int64_t>&, const std::vector<int32_t>&) {
  LOOM_CHECK(false, "CUDA-graph decode needs a CUDA build");
  return {};
}

int64_t DecodeGraphs::captured() const { return 0; }

void DecodeGraphs::disable() { usable_ = false; }

#endif

DecodeGraphs::~DecodeGraphs() = default;

}  // namespace loom::model
