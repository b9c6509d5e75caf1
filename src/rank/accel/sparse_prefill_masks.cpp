// FlexPrefill and XAttention block masks and the block-sparse attention that uses them (see sparse_prefill_masks.h).
#include "rank/accel/sparse_prefill_masks.h"

#include "common/error.h"
#ifdef LOOM_ACCEL_TORCH_CUDA
#include "kernels/cuda/torch_accel_adapter.h"
#endif

#include <cmath>
#include <limits>
#include <vector>

namespace loom::accel {

namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// [rows, T] -> [rows, ceil(T / block)] block sums (zero padding at the end).
at::Tensor sum_pool(const at::Tensor& x, int64_t block) {
  const int64_t length = x.size(-1);
  const int64_t blocks = ceil_div(length, block);
  at::Tensor padded = at::constant_pad_nd(x, {0, blocks * block - length}, 0.0);
  return padded.reshape({x.size(0), blocks, block}).sum(-1);
}

// Number of the largest entries whose running sum stays <= score, plus one (score_cover_topk).
at::Tensor cover_count(const at::Tensor& x, double score) {
  at::Tensor sorted = std::get<0>(x.sort(-1, /*descending=*/true));
  return (sorted.cumsum(-1) <= score).sum(-1) + 1;
}

// Per-block key means [kv_heads, nb, d] (the last block divided by its real length).
at::Tensor block_key_means(const at::Tensor& keys, int64_t block) {
  const int64_t total = keys.size(1);
  const int64_t blocks = ceil_div(total, block);
  at::Tensor padded = at::constant_pad_nd(keys, {0, 0, 0, blocks * block - total}, 0.0);
  at::Tensor sums = padded.reshape({keys.size(0), blocks, block, keys.size(2)}).sum(2);
  at::Tensor counts = at::full({blocks}, static_cast<double>(block), sums.options());
  counts[blocks - 1] = static_cast<double>(total - (blocks - 1) * block);
  return sums / counts.reshape({1, blocks, 1});
}

// [H, n] scores, [H] counts -> bool [H, n]: each row's counts[h] largest scores (the set torch.topk returns).
at::Tensor top_count(const at::Tensor& scores, const at::Tensor& counts) {
  at::Tensor order = std::get<1>(scores.sort(-1, /*descending=*/true));
  at::Tensor ranks = at::empty_like(order).scatter_(
      1, order, at::arange(scores.size(1), order.options()).unsqueeze(0).expand_as(order).contiguous());
  return ranks < counts.unsqueeze(1);
}

}  // namespace

at::Tensor flexprefill_block_mask(const at::Tensor& queries_in, const at::Tensor& keys_in, const FlexPrefillSettings& s) {
  const at::Tensor queries = queries_in.to(at::kFloat);
  const at::Tensor keys = keys_in.to(at::kFloat);
  const int64_t heads = queries.size(0);
  const int64_t kv_heads = keys.size(0);
  const int64_t group = heads / kv_heads;
  const int64_t t_q = queries.size(1);
  const int64_t total = keys.size(1);
  const int64_t d = keys.size(2);
  const int64_t bs = s.block_size;
  if (t_q <= std::max(2 * bs, ceil_div(s.min_budget, bs) * bs)) return at::Tensor();
  const int64_t nb = ceil_div(total, bs);
  const int64_t first_qb = (total - t_q) / bs;
  const int64_t last_qb = (total - 1) / bs;
  const int64_t min_blocks = ceil_div(s.min_budget, bs);
  const int64_t max_blocks = std::min(ceil_div(s.max_budget, bs), nb);
  const double scale = 1.0 / std::sqrt(static_cast<double>(d));

  const int64_t n_last = bs;
  at::Tensor last_q = queries.narrow(1, t_q - n_last, n_last) * scale;  // [H, n, d]
  at::Tensor qk = at::matmul(last_q.reshape({kv_heads, group * n_last, d}), keys.transpose(1, 2))
                      .reshape({heads, n_last, total});
  at::Tensor q_pos = at::arange(total - n_last, total, qk.options().dtype(at::kLong)).unsqueeze(1);
  at::Tensor k_pos = at::arange(total, qk.options().dtype(at::kLong)).unsqueeze(0);
  qk.masked_fill_((k_pos > q_pos).unsqueeze(0), -kInf);
  qk = at::softmax(qk, -1);
  at::Tensor vertical = qk.mean(1);  // [H, T]
  // Slash score by diagonal offset o = position - key, then indexed j = T - 1 - o like the official code.
  at::Tensor by_offset = at::zeros({heads, total}, qk.options());
  for (int64_t i = 0; i < n_last; ++i) {
    const int64_t pos = total - n_last + i;
    by_offset.narrow(1, 0, pos + 1).add_(qk.select(1, i).narrow(1, 0, pos + 1).flip({-1}));
  }
  at::Tensor slash = by_offset.flip({-1}) / static_cast<double>(n_last);

  at::Tensor num_vertical = (at::div(cover_count(vertical, s.gamma), bs, "floor") + 1).clamp(min_blocks, max_blocks);
  at::Tensor num_slash = (at::div(cover_count(slash, s.gamma), bs, "floor") + 1).clamp(min_blocks, max_blocks);
  at::Tensor vertical_pooled = sum_pool(vertical, bs);
  at::Tensor slash_pooled = sum_pool(slash, bs);
  at::Tensor avg_k = block_key_means(keys, bs).repeat_interleave(group, 0);  // [H, nb, d]
  at::Tensor avg_qk = at::softmax(at::matmul(avg_k, last_q.mean(1).unsqueeze(-1)).squeeze(-1), -1);  // [H, nb]
  at::Tensor m = (avg_qk + vertical_pooled) / 2;
  at::Tensor js = (0.5 * (avg_qk * at::log(avg_qk / m)).sum(-1) + 0.5 * (vertical_pooled * at::log(vertical_pooled / m)).sum(-1)).sqrt();
  at::Tensor query_aware = js < s.tau;
  vertical_pooled.select(1, 0).fill_(kInf);
  slash_pooled.select(1, nb - 1).fill_(kInf);

  // Everything below is tensor ops on the inputs' device: no per-head or per-entry host loop.
  const at::TensorOptions long_opts = queries.options().dtype(at::kLong);
  const int64_t n_rows = last_qb - first_qb + 1;
  at::Tensor row_ids = at::arange(first_qb, last_qb + 1, long_opts).unsqueeze(1);  // [R, 1] absolute query blocks
  at::Tensor col_ids = at::arange(nb, long_opts).unsqueeze(0);                      // [1, nb]
  at::Tensor causal = (col_ids <= row_ids).unsqueeze(0);                             // [1, R, nb]
  // Query-aware heads take min_budget vertical and slash blocks; the others their gamma-covering counts.
  at::Tensor min_count = at::full_like(num_vertical, min_blocks);
  at::Tensor nv = at::where(query_aware, min_count, num_vertical).clamp_max(nb);
  at::Tensor ns = at::where(query_aware, min_count, num_slash).clamp_max(nb);
  at::Tensor columns = top_count(vertical_pooled, nv);  // [H, nb] over key blocks
  at::Tensor slashes = top_count(slash_pooled, ns);     // [H, nb] over slash index j = nb - 1 - (row - column)
  at::Tensor slash_index = (nb - 1 - (row_ids - col_ids)).clamp(0, nb - 1).reshape({-1});  // non-causal: masked
  at::Tensor rows_mask = (columns.unsqueeze(1) | slashes.index_select(1, slash_index).reshape({heads, n_rows, nb})) &
                         causal;

  // Query-aware blocks: pooled queries of the chunk's blocks against pooled keys, causal, covering gamma * rows.
  const int64_t lead = (total - t_q) - first_qb * bs;  // chunk positions before its first query block
  at::Tensor q_blocks = at::constant_pad_nd(queries, {0, 0, lead, n_rows * bs - lead - t_q}, 0.0)
                            .reshape({heads, n_rows, bs, d})
                            .sum(2);
  std::vector<double> counts(static_cast<size_t>(n_rows));
  for (int64_t r = 0; r < n_rows; ++r) {
    const int64_t qb = first_qb + r;
    counts[r] = static_cast<double>(std::min((qb + 1) * bs, total) - std::max(qb * bs, total - t_q));
  }
  at::Tensor avg_q = q_blocks / at::tensor(counts, at::kDouble).to(q_blocks.options()).reshape({1, n_rows, 1}) * scale;
  at::Tensor attn = at::matmul(avg_q, avg_k.transpose(1, 2));  // [H, R, nb]
  attn.masked_fill_(causal.logical_not(), -kInf);
  attn = at::softmax(attn, -1).reshape({heads, n_rows * nb});
  auto [values, order] = attn.sort(-1, /*descending=*/true);
  at::Tensor take = values.cumsum(-1) <= s.gamma * static_cast<double>(n_rows);
  at::Tensor chosen = at::zeros_like(take).scatter_(1, order, take).reshape({heads, n_rows, nb});
  chosen.select(1, 0).select(1, 0).fill_(true);  // the official code maps unchosen entries to flat index 0
  rows_mask |= chosen & query_aware.reshape({heads, 1, 1});

  at::Tensor mask = at::zeros({heads, nb, nb}, queries.options().dtype(at::kBool));
  mask.narrow(1, first_qb, n_rows).copy_(rows_mask);
  return mask.to(queries_in.device());
}

at::Tensor xattention_block_mask(const at::Tensor& queries_in, const at::Tensor& keys_in, const XAttentionSettings& s) {
  // The estimate's product runs in the inputs' type on a GPU (tensor cores; the official xattn_estimate multiplies in
  // the model's dtype too) and in fp32 on the CPU; the logits, softmax and block sums are fp32 either way.
  const at::ScalarType product_type = queries_in.is_cuda() ? queries_in.scalar_type() : at::kFloat;
  const at::Tensor queries = queries_in.to(product_type);
  const at::Tensor keys = keys_in.to(product_type);
  const int64_t heads = queries.size(0);
  const int64_t kv_heads = keys.size(0);
  const int64_t group = heads / kv_heads;
  const int64_t t_q = queries.size(1);
  const int64_t total = keys.size(1);
  const int64_t d = keys.size(2);
  const int64_t bs = s.block_size;
  const int64_t stride = s.stride;
  LOOM_CHECK(bs % stride == 0, "XAttention block_size {} must be a multiple of stride {}", bs, stride);
  const int64_t nb = ceil_div(total, bs);
  const int64_t q_start = total - t_q;
  const int64_t first_qb = q_start / bs;
  const int64_t last_qb = (total - 1) / bs;
  const int64_t per_block = bs / stride;

  // Key groups [kv, n_gk, S*d]: group g = k[gS], k[gS+1], ..., k[gS+S-1] (zero padded past T).
  const int64_t n_gk = ceil_div(total, stride);
  at::Tensor k_padded = at::constant_pad_nd(keys, {0, 0, 0, n_gk * stride - total}, 0.0);
  at::Tensor k_groups = k_padded.reshape({kv_heads, n_gk, stride * d});
  // Query groups for the absolute groups of the chunk's query blocks: q[rS+S-1], ..., q[rS] (zero outside the chunk).
  const int64_t first_group = first_qb * per_block;
  const int64_t n_gq = (last_qb + 1) * per_block - first_group;
  const int64_t span = n_gq * stride;
  at::Tensor q_full = at::zeros({heads, span, d}, queries.options());
  q_full.narrow(1, q_start - first_group * stride, t_q).copy_(queries);
  at::Tensor q_groups = q_full.reshape({heads, n_gq, stride, d}).flip({2}).reshape({heads, n_gq, stride * d});
  // Query blocks in slices whose logits stay under estimate_slice_bytes (the whole [H, n_gq, n_gk] is 8.6 GB fp32
  // at 128K for Llama-3.1-8B's 32 heads).
  const int64_t rows_b = n_gq / per_block;
  const int64_t slice_rows = std::max<int64_t>(1, s.estimate_slice_bytes / (4 * heads * per_block * n_gk));
  const at::TensorOptions long_opts = queries.options().dtype(at::kLong);
  at::Tensor col_blocks = at::arange(nb, long_opts).unsqueeze(0);  // [1, nb]
  at::Tensor mask = at::zeros({heads, nb, nb}, queries.options().dtype(at::kBool));
  for (int64_t row0 = 0; row0 < rows_b; row0 += slice_rows) {
    const int64_t nr = std::min(slice_rows, rows_b - row0);
    const int64_t g0 = first_group + row0 * per_block;  // absolute index of the slice's first query group
    at::Tensor qg = q_groups.narrow(1, row0 * per_block, nr * per_block);
    at::Tensor logits = at::matmul(qg.reshape({kv_heads, group * nr * per_block, stride * d}), k_groups.transpose(1, 2))
                            .to(at::kFloat)
                            .reshape({heads, nr * per_block, n_gk}) /
                        std::sqrt(static_cast<double>(d)) / static_cast<double>(stride);
    at::Tensor row_ids = at::arange(g0, g0 + nr * per_block, long_opts).unsqueeze(1);
    at::Tensor col_ids = at::arange(n_gk, long_opts).unsqueeze(0);
    logits.masked_fill_((col_ids > row_ids).unsqueeze(0), -kInf);
    at::Tensor probs = at::softmax(logits, -1);
    // Rows whose group lies wholly past T are padding: zero them (official: padded query rows).
    at::Tensor padded_rows = row_ids.squeeze(1) * stride >= total;
    probs.masked_fill_(padded_rows.reshape({1, nr * per_block, 1}), 0.0);
    // Block sums [H, nr, nb]; the selection below runs in double precision.
    at::Tensor col_padded = at::constant_pad_nd(probs, {0, nb * per_block - n_gk}, 0.0);
    at::Tensor sums =
        col_padded.reshape({heads, nr, per_block, nb, per_block}).sum({2, 4}).to(at::kDouble);
    at::Tensor qb_ids = at::arange(first_qb + row0, first_qb + row0 + nr, long_opts).unsqueeze(1);  // [nr, 1]
    // Always kept: the first block and the diagonal block. The others by decreasing sum (ties: lower block first)
    // while the kept sum is below threshold * row total.
    at::Tensor fixed = ((col_blocks == 0) | (col_blocks == qb_ids)).unsqueeze(0);  // [1, nr, nb]
    at::Tensor required = sums.sum(-1, /*keepdim=*/true) * s.threshold;          // [H, nr, 1]
    at::Tensor base = (sums * fixed).sum(-1, /*keepdim=*/true);
    auto [sorted, order] = sums.masked_fill(fixed, -1.0).sort(/*stable=*/true, -1, /*descending=*/true);
    // before[i] = base + sorted[0] + ... + sorted[i-1], summed left to right.
    at::Tensor before = at::cat({base, sorted}, -1).cumsum(-1).narrow(-1, 0, nb);
    at::Tensor take = (before < required) & (sorted >= 0.0);
    at::Tensor selected = (at::zeros_like(take).scatter_(-1, order, take) | fixed) & (col_blocks <= qb_ids).unsqueeze(0);
    if (s.keep_sink) selected.select(-1, 0).fill_(true);
    if (s.keep_recent) selected |= (col_blocks == qb_ids).unsqueeze(0);
    mask.narrow(1, first_qb + row0, nr).copy_(selected);
  }
  return mask.to(queries_in.device());
}

at::Tensor block_sparse_attention(const at::Tensor& queries, const at::Tensor& keys, const at::Tensor& values,
                                  const at::Tensor& block_mask, int64_t block_size, double scale) {
  const int64_t heads = queries.size(0);
  const int64_t kv_heads = keys.size(0);
  const int64_t group = heads / kv_heads;
  const int64_t t_q = queries.size(1);
  const int64_t total = keys.size(1);
  const int64_t q_start = total - t_q;
#ifdef LOOM_ACCEL_TORCH_CUDA
  if (queries.is_cuda() && kernels::cuda::block_sparse_attention_supported(queries, block_size)) {
    return kernels::cuda::block_sparse_attention(queries, keys.to(queries.scalar_type()),
                                                 values.to(queries.scalar_type()), total, block_mask, block_size,
                                                 scale);
  }
#endif
  const int64_t nb = ceil_div(total, block_size);
  at::Tensor mask_cpu = block_mask.to(at::kCPU);
  auto mask_acc = mask_cpu.accessor<bool, 3>();
  at::Tensor out = at::zeros({heads, t_q, queries.size(2)}, queries.options().dtype(at::kFloat));
  const at::Tensor kf = keys.to(at::kFloat);
  const at::Tensor vf = values.to(at::kFloat);
  for (int64_t h = 0; h < heads; ++h) {
    const int64_t kv = h / group;
    for (int64_t qb = q_start / block_size; qb <= (total - 1) / block_size; ++qb) {
      const int64_t begin = std::max(qb * block_size, q_start);
      const int64_t end = std::min((qb + 1) * block_size, total);
      std::vector<at::Tensor> ranges;
      for (int64_t kb = 0; kb <= qb && kb < nb; ++kb) {
        if (mask_acc[h][qb][kb]) {
          ranges.push_back(at::arange(kb * block_size, std::min((kb + 1) * block_size, total), at::kLong));
        }
      }
      if (ranges.empty()) continue;
      at::Tensor index = at::cat(ranges).to(keys.device());
      at::Tensor q = queries[h].narrow(0, begin - q_start, end - begin).to(at::kFloat);
      at::Tensor logits = at::matmul(q, kf[kv].index_select(0, index).t()) * scale;
      at::Tensor q_pos = at::arange(begin, end, logits.options().dtype(at::kLong)).unsqueeze(1);
      logits.masked_fill_(index.unsqueeze(0) > q_pos, -kInf);
      at::Tensor probs = at::nan_to_num(at::softmax(logits, -1), 0.0);
      out[h].narrow(0, begin - q_start, end - begin).copy_(at::matmul(probs, vf[kv].index_select(0, index)));
    }
  }
  return out.to(queries.scalar_type());
}

}  // namespace loom::accel
