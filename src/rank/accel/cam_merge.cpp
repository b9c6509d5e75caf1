// CaM value merging (see cam_merge.h).
#include "rank/accel/cam_merge.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace loom::accel {

at::Tensor cam_merge_values(const at::Tensor& values, const at::Tensor& attn_score, int64_t window,
                            int64_t start_budget, uint64_t seed) {
  const int64_t heads = values.size(0);
  const int64_t total = values.size(1);
  const int64_t dim = values.size(2);
  at::Tensor v = values.to(at::kCPU).to(at::kFloat).contiguous().clone();
  at::Tensor a = attn_score.to(at::kCPU).to(at::kFloat).contiguous();
  float* vp = v.data_ptr<float>();
  const float* ap = a.data_ptr<float>();
  std::vector<float> reference(static_cast<size_t>(heads), -INFINITY);
  for (int64_t h = 0; h < heads; ++h) {
    for (int64_t t = 0; t < std::min(start_budget, total); ++t) reference[h] = std::max(reference[h], ap[h * total + t]);
    for (int64_t t = std::max<int64_t>(0, total - window); t < total; ++t) {
      reference[h] = std::max(reference[h], ap[h * total + t]);
    }
  }
  SplitMix64 rng(seed);
  std::vector<float> merged(static_cast<size_t>(dim));
  for (int64_t j = start_budget; j < total - window; ++j) {
    for (int64_t h = 0; h < heads; ++h) {
      float prob = ap[h * total + j] / reference[h];
      if (std::isnan(prob)) prob = 0.0f;
      if (std::isinf(prob)) prob = prob > 0 ? 1.0f : 0.0f;
      prob = std::clamp(prob, 0.0f, 1.0f);
      const bool merge = rng.uniform() < static_cast<double>(prob);
      if (!merge) continue;
      float* row = vp + (h * total + j) * dim;
      for (int64_t c = 0; c < dim; ++c) merged[c] = row[c] / static_cast<float>(window);
      const int64_t end = std::min(total, j + window + 1);
      for (int64_t t = j + 1; t < end; ++t) {
        float* target = vp + (h * total + t) * dim;
        for (int64_t c = 0; c < dim; ++c) target[c] += merged[c];
      }
    }
  }
  return v.to(values.scalar_type()).to(values.device());
}

}  // namespace loom::accel
