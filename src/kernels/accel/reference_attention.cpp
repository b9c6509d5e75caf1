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

void varlen_decode_attention_reference(const float* q, const float* keys, const float* values,
                                       const int64_t* offsets, const int64_t* lengths, int64_t num_heads,
                                       int64_t num_kv_heads, int64_t head_dim, float scale, float* out) {
  const int64_t group = num_heads / num_kv_heads;
  for (int64_t h = 0; h < num_heads; ++h) {
    const int64_t kv = h / group;
    std::vector<int64_t> rows(static_cast<size_t>(lengths[kv]));
    for (int64_t i = 0; i < lengths[kv]; ++i) rows[i] = offsets[kv] + i;
    attend_rows(q + h * head_dim, keys, values, rows, head_dim, scale, out + h * head_dim);
  }
}

void block_sparse_attention_reference(const float* q, const float* keys, const float* values, int64_t t_q,
                                      int64_t q_start, int64_t total_len, int64_t head_dim, const uint8_t* block_mask,
                                      int64_t block_size, float scale, float* out) {
  const int64_t num_blocks = (total_len + block_size - 1) / block_size;
  std::vector<int64_t> rows;
  for (int64_t i = 0; i < t_q; ++i) {
    const int64_t pos = q_start + i;
    const int64_t qb = pos / block_size;
    rows.clear();
    for (int64_t k = 0; k <= pos; ++k) {
      if (block_mask[qb * num_blocks + k / block_size]) rows.push_back(k);
    }
    attend_rows(q + i * head_dim, keys, values, rows, head_dim, scale, out + i * head_dim);
  }
}

}  // namespace loom::kernels::accel
