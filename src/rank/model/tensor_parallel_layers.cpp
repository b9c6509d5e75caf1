#include "rank/model/tensor_parallel_layers.h"

#include "common/error.h"

#include <algorithm>

namespace loom::model {

namespace {

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

void require_divisible(const ModelCard& config, const char* key, int64_t value, int size) {
  if (value % size != 0) {
    throw InputError(config.config_file.string(), 0, key,
                     fmt::format("a multiple of parallel.tensor_parallel ({}); got {} (choose a tensor_parallel "
                                 "that divides it)", size, value));
  }
}

}  // namespace

TensorParallelLayout plan_tensor_parallel(const ModelCard& config, parallel::Communicator* tp) {
  TensorParallelLayout layout;
  layout.comm = tp;
  if (tp != nullptr) {
    layout.rank = tp->rank();
    layout.size = tp->size();
  }
  const int size = layout.size;
  require_divisible(config, "num_attention_heads", config.num_heads, size);
  require_divisible(config, "num_key_value_heads", config.num_kv_heads, size);
  layout.heads = config.num_heads / size;
  layout.head_start = layout.heads * layout.rank;
  layout.kv_heads = config.num_kv_heads / size;
  layout.kv_head_start = layout.kv_heads * layout.rank;
  layout.intermediate = ceil_div(config.intermediate_size, size);
  layout.intermediate_start = layout.intermediate * layout.rank;
  layout.moe_intermediate = ceil_div(config.moe_intermediate_size, size);
  layout.moe_intermediate_start = layout.moe_intermediate * layout.rank;
  layout.vocab = ceil_div(config.vocab_size, size);
  layout.vocab_start = layout.vocab * layout.rank;
  return layout;
}

at::Tensor load_shard(const WeightStore& store, const std::string& name, const std::vector<int64_t>& full_shape,
                      int64_t dim, int64_t start, int64_t count, at::ScalarType dtype, at::Device device) {
  LOOM_CHECK(dim >= 0 && dim < static_cast<int64_t>(full_shape.size()), "shard dim {} of {}", dim, name);
  const int64_t extent = full_shape[dim];
  if (start == 0 && count == extent) return store.load(name, full_shape, dtype, device);
  const int64_t present = std::clamp<int64_t>(extent - start, 0, count);
  std::vector<int64_t> shape = full_shape;
  shape[dim] = count;
  at::Tensor out = at::zeros(shape, at::TensorOptions().dtype(dtype).device(device));
  if (present > 0) {
    out.narrow(dim, 0, present).copy_(store.load(name, full_shape, dtype, device, TensorSlice{dim, start, present}));
  }
  return out;
}

at::Tensor vocab_parallel_embedding(const TensorParallelLayout& layout, const at::Tensor& table,
                                    const at::Tensor& ids) {
  if (!layout.sharded()) return at::embedding(table, ids);
  at::Tensor local = ids - layout.vocab_start;
  at::Tensor owned = (local >= 0).logical_and(local < layout.vocab);
  at::Tensor rows = at::embedding(table, local.clamp(0, layout.vocab - 1));
  rows = rows * owned.unsqueeze(1).to(rows.scalar_type());
  reduce_row_parallel(layout, rows);
  return rows;
}

void reduce_row_parallel(const TensorParallelLayout& layout, at::Tensor& partial) {
  if (!layout.sharded()) return;
  if (!partial.is_contiguous()) partial = partial.contiguous();
  layout.comm->all_reduce_sum(partial);
}

at::Tensor vocab_parallel_logits(const TensorParallelLayout& layout, const at::Tensor& hidden,
                                 const at::Tensor& lm_head_shard, int64_t vocab_size) {
  at::Tensor local = at::linear(hidden, lm_head_shard).to(at::kFloat);
  if (!layout.sharded()) return local;
  at::Tensor full = layout.comm->all_gather(local.contiguous(), 1);
  return full.narrow(1, 0, vocab_size).contiguous();
}

}  // namespace loom::model
