// Sparse-prefill policy (see sparse_prefill_policy.h).
#include "rank/accel/sparse_prefill_policy.h"

namespace loom::accel {

at::Tensor SparsePrefillPolicy::block_mask(const at::Tensor& queries, const at::Tensor& keys) const {
  if (settings_.kind == SparsePrefillKind::kFlexPrefill) return flexprefill_block_mask(queries, keys, settings_.flex);
  return xattention_block_mask(queries, keys, settings_.xattn);
}

at::Tensor SparsePrefillPolicy::prefill_attention(const model::PrefillAttentionInput& input) {
  at::Tensor mask = block_mask(input.queries, input.keys);
  const int64_t block_size =
      settings_.kind == SparsePrefillKind::kFlexPrefill ? settings_.flex.block_size : settings_.xattn.block_size;
  const int64_t total = input.keys.size(1);
  const int64_t t_q = input.queries.size(1);
  const int64_t first = (total - t_q) / block_size;
  const int64_t last = (total - 1) / block_size;
  const int64_t rows = last - first + 1;
  // Causal blocks of the chunk's rows: sum over rows r of (r + 1).
  const double causal = static_cast<double>(input.queries.size(0)) *
                        static_cast<double>((first + 1 + last + 1) * rows / 2);
  causal_blocks_ += causal;
  if (!mask.defined()) {
    dense_blocks_ += causal;
    return at::Tensor();
  }
  // No host read here: a per-layer device sync would stall the prefill.
  mask_blocks_ = mask_blocks_.defined() ? mask_blocks_ + mask.sum() : mask.sum();
  return block_sparse_attention(input.queries, input.keys, input.values, mask, block_size, input.scale);
}

double SparsePrefillPolicy::prefill_block_density() const {
  if (causal_blocks_ <= 0) return 1.0;
  const double selected = mask_blocks_.defined() ? mask_blocks_.item<double>() : 0.0;
  return (dense_blocks_ + selected) / causal_blocks_;
}

}  // namespace loom::accel
