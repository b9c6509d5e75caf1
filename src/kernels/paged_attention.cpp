// Paged decode attention: CUDA kernels where they apply, the gather + fp32 reference elsewhere.
#include "kernels/paged_attention.h"

#include "common/error.h"
#include "kernels/attention.h"

#ifdef LOOM_ACCEL_TORCH_CUDA
#include "kernels/cuda/paged_attention.h"

#include <ATen/cuda/CUDAContext.h>
#endif

#include <algorithm>
#include <vector>

namespace loom::kernels {

namespace {

void check_layer(const PagedLayer& layer) {
  LOOM_CHECK(layer.key_pool.dim() == 3 && layer.value_pool.sizes() == layer.key_pool.sizes(),
             "paged pools must be [pages, page_size, head_dim]");
  LOOM_CHECK(layer.page_table.dim() == 2 && layer.page_table.scalar_type() == at::kInt, "page table must be int32 2-d");
  LOOM_CHECK(layer.lengths.dim() == 1 && layer.lengths.scalar_type() == at::kInt, "lengths must be int32 1-d");
  LOOM_CHECK(layer.num_kv_heads > 0 && layer.lengths.size(0) % layer.num_kv_heads == 0,
             "{} rows are not a multiple of {} KV heads", layer.lengths.size(0), layer.num_kv_heads);
}

#ifdef LOOM_ACCEL_TORCH_CUDA
cuda::ElementType element_type(at::ScalarType type) {
  switch (type) {
    case at::kBFloat16: return cuda::ElementType::kBFloat16;
    case at::kHalf: return cuda::ElementType::kFloat16;
    default: return cuda::ElementType::kFloat32;
  }
}

bool cuda_path(const at::Tensor& q, const PagedLayer& layer) {
  return q.is_cuda() && (q.scalar_type() == at::kFloat || q.scalar_type() == at::kBFloat16 ||
                         q.scalar_type() == at::kHalf) &&
         layer.key_pool.scalar_type() == q.scalar_type() &&
         cuda::paged_attention_supported(element_type(q.scalar_type()), q.size(-1));
}

cuda::PagedLayerView view_of(const PagedLayer& layer) {
  cuda::PagedLayerView view;
  view.key_pool = layer.key_pool.data_ptr();
  view.value_pool = layer.value_pool.data_ptr();
  view.page_table = layer.page_table.data_ptr<int32_t>();
  view.lengths = layer.lengths.data_ptr<int32_t>();
  view.max_pages_per_row = layer.page_table.size(1);
  view.page_size = static_cast<int32_t>(layer.key_pool.size(1));
  return view;
}

void check_status(cudaError_t status, const char* what) {
  LOOM_CHECK(status == cudaSuccess, "{} failed: {}", what, cudaGetErrorString(status));
}
#endif

}  // namespace

at::Tensor paged_row_indices(const int32_t* pages, int64_t length, int64_t page_size) {
  at::Tensor index = at::empty({length}, at::kLong);
  int64_t* out = index.data_ptr<int64_t>();
  for (int64_t t = 0; t < length; ++t) out[t] = static_cast<int64_t>(pages[t / page_size]) * page_size + t % page_size;
  return index;
}

void paged_append_reference(const PagedLayer& layer, const at::Tensor& keys, const at::Tensor& values,
                            const at::Tensor& slot_of) {
  check_layer(layer);
  const int64_t kv_heads = layer.num_kv_heads, dim = layer.key_pool.size(2), page_size = layer.key_pool.size(1);
  at::Tensor slots = slot_of.to(at::kCPU, at::kInt).contiguous();
  at::Tensor table = layer.page_table.to(at::kCPU).contiguous();
  at::Tensor lengths = layer.lengths.to(at::kCPU).contiguous();
  const int32_t* slot = slots.data_ptr<int32_t>();
  int32_t* length = lengths.data_ptr<int32_t>();
  const int32_t* pages = table.data_ptr<int32_t>();
  const int64_t max_pages = table.size(1);
  at::Tensor flat_keys = layer.key_pool.view({-1, dim});
  at::Tensor flat_values = layer.value_pool.view({-1, dim});
  std::vector<int64_t> destinations, sources;
  for (int64_t b = 0; b < slots.size(0); ++b) {
    if (slot[b] < 0) continue;
    for (int64_t h = 0; h < kv_heads; ++h) {
      const int64_t row = slot[b] * kv_heads + h;
      const int64_t position = length[row];
      LOOM_CHECK(position / page_size < max_pages, "row {} is full ({} tokens)", row, position);
      destinations.push_back(static_cast<int64_t>(pages[row * max_pages + position / page_size]) * page_size +
                             position % page_size);
      sources.push_back(b * kv_heads + h);
      length[row] += 1;
    }
  }
  if (destinations.empty()) return;
  const at::Device device = layer.key_pool.device();
  at::Tensor dst = at::tensor(destinations, at::kLong).to(device);
  at::Tensor src = at::tensor(sources, at::kLong).to(device);
  flat_keys.index_copy_(0, dst, keys.reshape({-1, dim}).index_select(0, src).to(flat_keys.scalar_type()));
  flat_values.index_copy_(0, dst, values.reshape({-1, dim}).index_select(0, src).to(flat_values.scalar_type()));
  if (layer.lengths.is_cpu()) {
    if (layer.lengths.data_ptr<int32_t>() != length) layer.lengths.copy_(lengths);
  } else {
    layer.lengths.copy_(lengths.to(layer.lengths.device()));
  }
}

at::Tensor paged_decode_attention_reference(const PagedLayer& layer, const at::Tensor& q, const at::Tensor& slot_of,
                                            double scale) {
  check_layer(layer);
  LOOM_CHECK(q.dim() == 3 && q.size(1) % layer.num_kv_heads == 0, "queries {} do not fit {} KV heads",
             c10::str(q.sizes()), layer.num_kv_heads);
  const int64_t kv_heads = layer.num_kv_heads, dim = layer.key_pool.size(2), page_size = layer.key_pool.size(1);
  const int64_t group = q.size(1) / kv_heads;
  at::Tensor slots = slot_of.to(at::kCPU, at::kInt).contiguous();
  at::Tensor table = layer.page_table.to(at::kCPU).contiguous();
  at::Tensor lengths = layer.lengths.to(at::kCPU).contiguous();
  const int32_t* slot = slots.data_ptr<int32_t>();
  const int32_t* length = lengths.data_ptr<int32_t>();
  const int64_t max_pages = table.size(1);
  at::Tensor flat_keys = layer.key_pool.view({-1, dim});
  at::Tensor flat_values = layer.value_pool.view({-1, dim});
  at::Tensor out = at::zeros_like(q);
  for (int64_t b = 0; b < slots.size(0); ++b) {
    if (slot[b] < 0) continue;
    for (int64_t h = 0; h < kv_heads; ++h) {
      const int64_t row = slot[b] * kv_heads + h;
      const int64_t n = length[row];
      LOOM_CHECK(n > 0, "attention over an empty row {}", row);
      at::Tensor index =
          paged_row_indices(table.data_ptr<int32_t>() + row * max_pages, n, page_size).to(layer.key_pool.device());
      at::Tensor keys = flat_keys.index_select(0, index).unsqueeze(0);      // [1, n, dim]
      at::Tensor values = flat_values.index_select(0, index).unsqueeze(0);  // [1, n, dim]
      at::Tensor queries = q[b].narrow(0, h * group, group).unsqueeze(1);   // [group, 1, dim]
      out[b].narrow(0, h * group, group).copy_(causal_tail_attention_reference(queries, keys, values, scale).squeeze(1));
    }
  }
  return out;
}

bool paged_kernels_available(const at::Tensor& q) {
#ifdef LOOM_ACCEL_TORCH_CUDA
  return q.is_cuda() && (q.scalar_type() == at::kFloat || q.scalar_type() == at::kBFloat16 ||
                         q.scalar_type() == at::kHalf) &&
         cuda::paged_attention_supported(element_type(q.scalar_type()), q.size(-1));
#else
  (void)q;
  return false;
#endif
}

int64_t choose_decode_splits(int64_t blocks_per_split, int64_t resident_blocks, int64_t max_splits) {
  constexpr double kBlockOverhead = 0.02;  // a block's fixed cost, as a share of one row's work
  blocks_per_split = std::max<int64_t>(blocks_per_split, 1);
  resident_blocks = std::max<int64_t>(resident_blocks, 1);
  int64_t best_splits = 1;
  double best_cost = 0.0;
  for (int64_t splits = 1; splits <= std::max<int64_t>(max_splits, 1); ++splits) {
    const int64_t waves = (blocks_per_split * splits + resident_blocks - 1) / resident_blocks;
    const double cost = static_cast<double>(waves) * (1.0 / static_cast<double>(splits) + kBlockOverhead);
    if (splits == 1 || cost < best_cost) {
      best_cost = cost;
      best_splits = splits;
    }
  }
  return best_splits;
}

int64_t decode_splits(int64_t batch, int64_t num_kv_heads, int64_t group, int64_t head_dim, at::ScalarType dtype) {
#ifdef LOOM_ACCEL_TORCH_CUDA
  if (at::cuda::is_available() &&
      (dtype == at::kFloat || dtype == at::kBFloat16 || dtype == at::kHalf)) {
    cuda::PagedDecodeShape shape;
    shape.type = element_type(dtype);
    shape.head_dim = head_dim;
    shape.group = group;
    shape.batch = batch;
    shape.num_kv_heads = num_kv_heads;
    const cuda::PagedDecodeOccupancy occupancy = cuda::paged_decode_occupancy(shape);
    const int64_t sms = at::cuda::getCurrentDeviceProperties()->multiProcessorCount;
    return choose_decode_splits(occupancy.blocks_per_split, occupancy.blocks_per_sm * sms, cuda::kMaxSplits);
  }
#endif
  (void)batch;
  (void)num_kv_heads;
  (void)group;
  (void)head_dim;
  (void)dtype;
  return 1;
}

void paged_append(const PagedLayer& layer, const at::Tensor& keys, const at::Tensor& values,
                  const at::Tensor& slot_of) {
#ifdef LOOM_ACCEL_TORCH_CUDA
  if (cuda_path(keys, layer)) {
    check_layer(layer);
    at::Tensor k = keys.contiguous(), v = values.contiguous();
    cuda::PagedAppendParams p;
    p.type = element_type(k.scalar_type());
    p.layer = view_of(layer);
    p.keys = k.data_ptr();
    p.values = v.data_ptr();
    p.slot_of = slot_of.data_ptr<int32_t>();
    p.batch = static_cast<int32_t>(k.size(0));
    p.num_kv_heads = static_cast<int32_t>(k.size(1));
    p.head_dim = static_cast<int32_t>(k.size(2));
    check_status(cuda::paged_append(p, at::cuda::getCurrentCUDAStream()), "paged_append");
    return;
  }
#endif
  paged_append_reference(layer, keys, values, slot_of);
}

at::Tensor paged_decode_attention(const PagedLayer& layer, const at::Tensor& q, const at::Tensor& slot_of,
                                  double scale, int64_t num_splits) {
#ifdef LOOM_ACCEL_TORCH_CUDA
  if (cuda_path(q, layer)) {
    check_layer(layer);
    at::Tensor qc = q.contiguous();
    at::Tensor out = at::empty_like(qc);
    const int64_t batch = qc.size(0), heads = qc.size(1), dim = qc.size(2);
    at::Tensor workspace = at::empty({cuda::paged_decode_workspace_floats(batch, heads, dim, num_splits)},
                                     qc.options().dtype(at::kFloat));
    cuda::PagedDecodeParams p;
    p.type = element_type(qc.scalar_type());
    p.layer = view_of(layer);
    p.q = qc.data_ptr();
    p.out = out.data_ptr();
    p.slot_of = slot_of.data_ptr<int32_t>();
    p.batch = static_cast<int32_t>(batch);
    p.num_heads = static_cast<int32_t>(heads);
    p.num_kv_heads = static_cast<int32_t>(layer.num_kv_heads);
    p.head_dim = static_cast<int32_t>(dim);
    p.num_splits = static_cast<int32_t>(num_splits);
    p.scale = static_cast<float>(scale);
    p.workspace = workspace.data_ptr<float>();
    check_status(cuda::paged_decode_attention(p, at::cuda::getCurrentCUDAStream()), "paged_decode_attention");
    return out;
  }
#endif
  (void)num_splits;
  return paged_decode_attention_reference(layer, q, slot_of, scale);
}

}  // namespace loom::kernels
