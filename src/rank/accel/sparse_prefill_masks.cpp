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

  at::Tensor mask = at::zeros({heads, nb, nb}, at::TensorOptions().dtype(at::kBool));
  auto mask_acc = mask.accessor<bool, 3>();
  at::Tensor qa_cpu = query_aware.to(at::kCPU);
  at::Tensor nv_cpu = num_vertical.to(at::kCPU);
  at::Tensor ns_cpu = num_slash.to(at::kCPU);
  const int64_t n_rows = last_qb - first_qb + 1;
  for (int64_t h = 0; h < heads; ++h) {
    const bool aware = qa_cpu[h].item<bool>();
    const int64_t nv = std::min(aware ? min_blocks : nv_cpu[h].item<int64_t>(), nb);
    const int64_t ns = std::min(aware ? min_blocks : ns_cpu[h].item<int64_t>(), nb);
    at::Tensor columns = std::get<1>(vertical_pooled[h].topk(nv)).to(at::kCPU);
    at::Tensor slashes = std::get<1>(slash_pooled[h].topk(ns)).to(at::kCPU);
    for (int64_t i = 0; i < columns.numel(); ++i) {
      const int64_t c = columns[i].item<int64_t>();
      for (int64_t r = std::max(c, first_qb); r <= last_qb; ++r) mask_acc[h][r][c] = true;
    }
    for (int64_t i = 0; i < slashes.numel(); ++i) {
      const int64_t offset = nb - 1 - slashes[i].item<int64_t>();
      for (int64_t r = std::max(offset, first_qb); r <= last_qb; ++r) mask_acc[h][r][r - offset] = true;
    }
    if (!aware) continue;
    // Query-aware blocks: pooled queries of the chunk's blocks against pooled keys, causal, covering gamma * rows.
    const at::Tensor q_head = queries[h];
    std::vector<at::Tensor> pooled;
    for (int64_t r = first_qb; r <= last_qb; ++r) {
      const int64_t begin = std::max(r * bs, total - t_q) - (total - t_q);
      const int64_t end = std::min((r + 1) * bs, total) - (total - t_q);
      pooled.push_back(q_head.narrow(0, begin, end - begin).mean(0));
    }
    at::Tensor avg_q = at::stack(pooled) * scale;  // [rows, d]
    at::Tensor attn = at::matmul(avg_q, avg_k[h].t());  // [rows, nb]
    at::Tensor row_ids = at::arange(first_qb, last_qb + 1, attn.options().dtype(at::kLong)).unsqueeze(1);
    at::Tensor col_ids = at::arange(nb, attn.options().dtype(at::kLong)).unsqueeze(0);
    attn.masked_fill_(col_ids > row_ids, -kInf);
    attn = at::softmax(attn, -1).reshape({-1});
    auto [values, order] = attn.sort(-1, /*descending=*/true);
    at::Tensor take = values.cumsum(-1) <= s.gamma * static_cast<double>(n_rows);
    at::Tensor chosen = order.masked_select(take).to(at::kCPU);
    mask_acc[h][first_qb][0] = true;  // the official code maps unchosen entries to flat index 0
    for (int64_t i = 0; i < chosen.numel(); ++i) {
      const int64_t flat = chosen[i].item<int64_t>();
      mask_acc[h][first_qb + flat / nb][flat % nb] = true;
    }
  }
  return mask.to(queries_in.device());
}

at::Tensor xattention_block_mask(const at::Tensor& queries_in, const at::Tensor& keys_in, const XAttentionSettings& s) {
  const at::Tensor queries = queries_in.to(at::kFloat);
  const at::Tensor keys = keys_in.to(at::kFloat);
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
  at::Tensor logits = at::matmul(q_groups.reshape({kv_heads, group * n_gq, stride * d}), k_groups.transpose(1, 2))
                          .reshape({heads, n_gq, n_gk}) /
                      std::sqrt(static_cast<double>(d)) / static_cast<double>(stride);
  at::Tensor row_ids = at::arange(first_group, first_group + n_gq, logits.options().dtype(at::kLong)).unsqueeze(1);
  at::Tensor col_ids = at::arange(n_gk, logits.options().dtype(at::kLong)).unsqueeze(0);
  logits.masked_fill_((col_ids > row_ids).unsqueeze(0), -kInf);
  at::Tensor probs = at::softmax(logits, -1);
  // Rows whose group lies wholly past T are padding: zero them (official: padded query rows).
  at::Tensor padded_rows = row_ids.squeeze(1) * stride >= total;
  probs.masked_fill_(padded_rows.reshape({1, n_gq, 1}), 0.0);
  // Block sums [H, rows_b, nb].
  at::Tensor col_padded = at::constant_pad_nd(probs, {0, nb * per_block - n_gk}, 0.0);
  at::Tensor sums = col_padded.reshape({heads, n_gq / per_block, per_block, nb, per_block}).sum({2, 4});

  at::Tensor mask = at::zeros({heads, nb, nb}, at::TensorOptions().dtype(at::kBool));
  auto mask_acc = mask.accessor<bool, 3>();
  at::Tensor sums_cpu = sums.to(at::kCPU).to(at::kDouble).contiguous();
  auto sums_acc = sums_cpu.accessor<double, 3>();
  std::vector<std::pair<double, int64_t>> others;
  for (int64_t h = 0; h < heads; ++h) {
    for (int64_t row = 0; row < n_gq / per_block; ++row) {
      const int64_t qb = first_qb + row;
      double row_total = 0.0;
      for (int64_t kb = 0; kb < nb; ++kb) row_total += sums_acc[h][row][kb];
      const double required = row_total * s.threshold;
      double kept = sums_acc[h][row][0];
      mask_acc[h][qb][0] = true;
      if (qb != 0) {
        kept += sums_acc[h][row][qb];
        mask_acc[h][qb][qb] = true;
      }
      others.clear();
      for (int64_t kb = 1; kb < nb; ++kb) {
        if (kb != qb) others.emplace_back(sums_acc[h][row][kb], kb);
      }
      std::stable_sort(others.begin(), others.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
      for (const auto& [value, kb] : others) {
        if (!(kept < required)) break;
        mask_acc[h][qb][kb] = true;
        kept += value;
      }
      for (int64_t kb = qb + 1; kb < nb; ++kb) mask_acc[h][qb][kb] = false;
      if (s.keep_sink) mask_acc[h][qb][0] = true;
      if (s.keep_recent) mask_acc[h][qb][qb] = true;
    }
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
  if (queries.is_cuda() && keys.size(2) % 32 == 0 && keys.size(2) <= 256 && block_size <= 128) {
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
