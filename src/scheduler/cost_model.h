// Predicted seconds of one sample on one worker group:
//   prefill(n) = a·n + b·n²,  decode = steps·(c + d·n)      (n = input tokens, steps = max_new_tokens)
// Coefficients per device kind ("profile") come from configs/cost_model.yaml, fitted for a model shape (the file's
// reference_model, Llama-3.1-8B, or the profile's own `fitted_on`) and scaled to the job's model from its
// model card: a and c by linear parameters, b by layers·hidden (attention FLOPs), d by layers·kv_heads·head_dim
// (KV bytes). Tensor parallelism divides by tp·efficiency. The planner and the dispatcher only need the ordering
// and rough magnitudes.
#pragma once

#include "model_card/model_card.h"

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace loom::scheduler {

struct ModelShape {
  double linear_params = 0;  // parameters of the per-layer linears (no embeddings, no LM head)
  double layers = 0;
  double hidden = 0;
  double kv_heads = 0;
  double head_dim = 0;
};

struct CostCoefficients {
  double prefill_a = 0;  // s per token
  double prefill_b = 0;  // s per token²
  double decode_c = 0;   // s per step
  double decode_d = 0;   // s per step per context token
};

class CostModel {
 public:
  CostModel() = default;
  CostModel(std::string profile, CostCoefficients scaled) : profile_(std::move(profile)), coefficients_(scaled) {}

  // Reads cost_model.yaml; profile "auto" picks one from device ("cpu", "cuda", "auto") and the GPUs in
  // /proc/driver/nvidia. Throws InputError naming the file and key for a bad file or an unknown profile.
  static CostModel load(const std::filesystem::path& cost_yaml, const std::string& profile, const std::string& device,
                        const ModelShape& model, int tensor_parallel);

  double predict(int64_t input_tokens, int64_t new_tokens) const;
  const std::string& profile() const { return profile_; }
  const CostCoefficients& coefficients() const { return coefficients_; }

 private:
  std::string profile_ = "unit";
  CostCoefficients coefficients_{1e-6, 0, 1e-6, 0};
};

// The shape of the model the card describes.
ModelShape model_shape(const model::ModelCard& card);
// The "Model:" lines of /proc/driver/nvidia/gpus/*/information (empty without an NVIDIA driver).
std::vector<std::string> detect_gpu_models();

}  // namespace loom::scheduler
