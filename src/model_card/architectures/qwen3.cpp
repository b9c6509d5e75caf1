// Qwen3 (Qwen3ForCausalLM): per-head RMSNorm of q and k (q_norm, k_norm) before RoPE, explicit head_dim
// (often != hidden_size / num_heads), optional attention_bias; sliding window as Qwen2.
#include "model_card/architectures/architecture.h"

#include "common/error.h"

#include <nlohmann/json.hpp>

namespace loom::model {

namespace {
void parse_qwen3(const nlohmann::json& config, const std::string& file, ModelCard& out) {
  out.qk_norm = true;
  out.qkv_bias = optional_flag(config, "attention_bias", file, false);
  out.o_bias = out.qkv_bias;
  parse_qwen_sliding_window(config, file, out);
}
}  // namespace

Architecture describe_qwen3() { return {"qwen3", {"Qwen3ForCausalLM"}, &parse_qwen3}; }

}  // namespace loom::model
