// Next-token choice from fp32 logits [vocab]: greedy (argmax, lowest id on ties as torch.argmax) or seeded
// sampling with transformers' processor order: temperature, then top-k, then top-p (nucleus, keeping at least one
// token), then a draw from the softmax. Each sequence owns its Sampler, so results do not depend on batch order.
#pragma once

#include "common/generation_settings.h"

#include <ATen/ATen.h>

#include <cstdint>
#include <random>

namespace loom::model {

class Sampler {
 public:
  explicit Sampler(const GenerationSettings& settings);
  int32_t next(const at::Tensor& logits);

 private:
  GenerationSettings settings_;
  std::mt19937_64 rng_;
};

}  // namespace loom::model
