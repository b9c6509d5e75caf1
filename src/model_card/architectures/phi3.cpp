// Phi-3 (Phi3ForCausalLM): the Llama decoder without biases, q/k/v in one fused self_attn.qkv_proj and gate/up in
// one mlp.gate_up_proj (the loader slices each rank's rows out of them), sliding_window on every layer when set
// (Phi-3-mini-4k: 2047). RoPE as read by parse_rope (the 128k variants' longrope is refused there).
#include "model_card/architectures/architecture.h"

namespace loom::model {

namespace {
void parse_phi3(const nlohmann::json& config, const std::string& file, ModelCard& out) {
  out.fused_projections = true;
  parse_sliding_window(config, file, 0, out);
}
}  // namespace

Architecture describe_phi3() { return {"phi3", {"Phi3ForCausalLM"}, &parse_phi3}; }

}  // namespace loom::model
