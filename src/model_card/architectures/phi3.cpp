// Phi-3 (Phi3ForCausalLM): the Llama decoder without biases, q/k/v in one fused self_attn.qkv_proj and gate/up in
// one mlp.gate_up_proj (the loader slices each rank's rows out of them), sliding_window on every layer when set
// (Phi-3-mini-4k: 2047). RoPE as read by parse_rope, with Phi3Config's two departures from the other models:
// the legacy rope types "su" and "yarn" mean longrope (Phi-3-mini/medium-128k, Phi-3.5-mini), and
// original_max_position_embeddings is the top-level key, 4096 when absent (Phi3Config's default, which transformers
// prefers over a value inside the rope dict).
#include "model_card/architectures/architecture.h"

#include <nlohmann/json.hpp>

namespace loom::model {

namespace {

constexpr int64_t kPhi3OriginalMaxPositions = 4096;  // Phi3Config.original_max_position_embeddings default

void prepare_phi3(nlohmann::json& config, const std::string& /*file*/) {
  for (const char* key : {"rope_parameters", "rope_scaling"}) {
    auto params = config.find(key);
    if (params == config.end() || !params->is_object()) continue;
    auto type = params->find("rope_type");
    if (type == params->end() || type->is_null()) type = params->find("type");
    if (type != params->end() && (*type == "su" || *type == "yarn")) (*params)["rope_type"] = "longrope";
  }
  auto original = config.find("original_max_position_embeddings");
  if (original == config.end() || original->is_null()) {
    config["original_max_position_embeddings"] = kPhi3OriginalMaxPositions;
  }
}

void parse_phi3(const nlohmann::json& config, const std::string& file, ModelCard& out) {
  out.fused_projections = true;
  parse_sliding_window(config, file, 0, out);
}

}  // namespace

Architecture describe_phi3() { return {"phi3", {"Phi3ForCausalLM"}, &parse_phi3, &prepare_phi3}; }

}  // namespace loom::model
