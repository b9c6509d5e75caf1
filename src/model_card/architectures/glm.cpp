// GLM (GlmForCausalLM, THUDM glm-4-9b-chat-hf) and GLM-4 (Glm4ForCausalLM, GLM-4-0414): the Llama decoder with
// biases on q/k/v (attention_bias, default true; o_proj never has one), gate and up in one fused mlp.gate_up_proj,
// and RoPE on the first head_dim * partial_rotary_factor dims (default 0.5) rotating adjacent pairs (transformers'
// interleaved rotate_half); GLM-4 adds RMSNorms on the attention and MLP outputs before their residual adds.
#include "model_card/architectures/architecture.h"

#include <nlohmann/json.hpp>

namespace loom::model {

namespace {
void parse_glm_common(const nlohmann::json& config, const std::string& file, ModelCard& out) {
  out.qkv_bias = optional_flag(config, "attention_bias", file, true);
  out.o_bias = false;
  out.fused_gate_up = true;
  out.interleaved_rope = true;
  // transformers' GlmConfig / Glm4Config default partial_rotary_factor to 0.5 when config.json has none.
  const bool has_factor = config.contains("partial_rotary_factor") ||
                          (config.contains("rope_parameters") && config["rope_parameters"].is_object() &&
                           config["rope_parameters"].contains("partial_rotary_factor"));
  if (!has_factor) out.rope.partial_rotary_factor = 0.5;
}

void parse_glm(const nlohmann::json& config, const std::string& file, ModelCard& out) {
  parse_glm_common(config, file, out);
}

void parse_glm4(const nlohmann::json& config, const std::string& file, ModelCard& out) {
  parse_glm_common(config, file, out);
  out.sandwich_norms = true;
}
}  // namespace

Architecture describe_glm() { return {"glm", {"GlmForCausalLM"}, &parse_glm}; }
Architecture describe_glm4() { return {"glm4", {"Glm4ForCausalLM"}, &parse_glm4}; }

}  // namespace loom::model
