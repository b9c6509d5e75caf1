// Plain float references of varlen decode attention and block-sparse causal attention (see reference_attention.h).
#include "kernels/accel/reference_attention.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace loom::kernels::accel {

namespace {

// Softmax-weighted sum of `values` rows selected by `rows` for one query.
void attend_rows(const float* query, const float* keys, const float* values, const std::vector<int64_t>& rows,
                 int64_t head_dim, float scale, float* out) {
  std::fill(out, out + head_dim, 0.0f);
  if (rows.empty()) return;
  std::vector<double> logits(rows.size());
  double max_logit = -std::numeric_limits<double>::infinity();
  for (size_t i = 0; i < rows.size(); ++i) {
    const float* key = keys + rows[i] * head_dim;
    double dot = 0.0;
    for (int64_t c = 0; c < head_dim; ++c) dot += static_cast<double>(query[c]) * key[c];
    logits[i] = dot * scale;
    max_logit = std::max(max_logit, logits[i]);
  }
  double total = 0.0;
  for (double& l : logits) {
    l = std::exp(l - max_logit);
    total += l;
  }
  std::vector<double> acc(static_cast<size_t>(head_dim), 0.0);
  for (size_t i = 0; i < rows.size(); ++i) {
    const float* value = values + rows[i] * head_dim;
    const double w = logits[i] / total;
    for (int64_t c = 0; c < head_dim; ++c) acc[c] += w * value[c];
  }
  for (int64_t c = 0; c < head_dim; ++c) out[c] = static_cast<float>(acc[c]);
}

}  // namespace

void varlen_decode_attention_reference(const VarlenDecodeReferenceParams& p) {
  const int64_t group = p.num_heads / p.num_kv_heads;
  for (int64_t h = 0; h < p.num_heads; ++h) {
    const int64_t kv = h / group;
    std::vector<int64_t> rows(static_cast<size_t>(p.lengths[kv]));
    for (int64_t i = 0; i < p.lengths[kv]; ++i) rows[i] = p.offsets[kv] + i;
    attend_rows(p.q + h * p.head_dim, p.keys, p.values, rows, p.head_dim, p.scale, p.out + h * p.head_dim);
  }
}

void block_sparse_attention_reference(const BlockSparseReferenceParams& p) {
  const int64_t num_blocks = (p.total_len + p.block_size - 1) / p.block_size;
  std::vector<int64_t> rows;
  for (int64_t i = 0; i < p.t_q; ++i) {
    const int64_t pos = p.q_start + i;
    const int64_t qb = pos / p.block_size;
    rows.clear();
    for (int64_t k = 0; k <= pos; ++k) {
      if (p.block_mask[qb * num_blocks + k / p.block_size]) rows.push_back(k);
    }
    attend_rows(p.q + i * p.head_dim, p.keys, p.values, rows, p.head_dim, p.scale, p.out + i * p.head_dim);
  }
}

}  // namespace loom::kernels::accel
