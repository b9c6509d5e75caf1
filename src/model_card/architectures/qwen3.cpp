// Qwen3 (Qwen3ForCausalLM): per-head RMSNorm of q and k (q_norm, k_norm) before RoPE, explicit head_dim
// (often != hidden_size / num_heads), optional attention_bias. use_sliding_window=true is rejected.
#include "model_card/architectures/architecture.h"

#include "common/error.h"

#include <nlohmann/json.hpp>

namespace loom::model {

namespace {
void parse_qwen3(const nlohmann::json& config, const std::string& file, ModelCard& out) {
  out.qk_norm = true;
  out.qkv_bias = optional_flag(config, "attention_bias", file, false);
  out.o_bias = out.qkv_bias;
  if (optional_flag(config, "use_sliding_window", file, false)) {
    throw InputError(file, 0, "use_sliding_window", "sliding-window attention is not supported; expected false");
  }
}
}  // namespace

Architecture describe_qwen3() { return {"qwen3", {"Qwen3ForCausalLM"}, &parse_qwen3}; }

}  // namespace loom::model
