#include "rank/model/sampler.h"

#include "common/error.h"

#include <limits>

namespace loom::model {

Sampler::Sampler(const GenerationSettings& settings) : settings_(settings), rng_(settings.seed) {}

int32_t Sampler::next(const at::Tensor& logits_in) {
  at::Tensor logits = logits_in.to(at::kCPU, at::kFloat).reshape({-1});
  const bool greedy = !settings_.do_sample || settings_.temperature <= 0.0f;
  if (greedy) return static_cast<int32_t>(logits.argmax().item<int64_t>());
  logits = logits / settings_.temperature;
  const float minus_inf = -std::numeric_limits<float>::infinity();
  if (settings_.top_k > 0 && settings_.top_k < logits.size(0)) {
    const float kth = std::get<0>(logits.topk(settings_.top_k)).min().item<float>();
    logits = logits.masked_fill(logits < kth, minus_inf);
  }
  if (settings_.top_p < 1.0f) {
    // transformers TopPLogitsWarper: sort ascending, drop tokens whose cumulative probability <= 1 - top_p,
    // always keeping the most likely one.
    auto [sorted, order] = logits.sort(/*dim=*/0, /*descending=*/false);
    at::Tensor cumulative = sorted.softmax(0).cumsum(0);
    at::Tensor remove = cumulative <= (1.0f - settings_.top_p);
    remove[-1] = false;
    at::Tensor removed = at::zeros_like(remove).scatter(0, order, remove);
    logits = logits.masked_fill(removed, minus_inf);
  }
  at::Tensor probs = logits.softmax(0).to(at::kDouble).contiguous();
  const double* p = probs.data_ptr<double>();
  const int64_t vocab = probs.size(0);
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  double u = uniform(rng_), acc = 0.0;
  int64_t last_positive = 0;
  for (int64_t i = 0; i < vocab; ++i) {
    if (p[i] <= 0.0) continue;
    last_positive = i;
    acc += p[i];
    if (u < acc) return static_cast<int32_t>(i);
  }
  return static_cast<int32_t>(last_positive);
}

}  // namespace loom::model
