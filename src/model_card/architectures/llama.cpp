// Llama 2, 3, 3.1, 3.2 (LlamaForCausalLM): optional attention_bias / mlp_bias, any RoPE scaling, tied embeddings
// (3.2 1B/3B).
#include "model_card/architectures/architecture.h"

#include <nlohmann/json.hpp>

namespace loom::model {

namespace {
void parse_llama(const nlohmann::json& config, const std::string& file, ModelCard& out) {
  out.qkv_bias = optional_flag(config, "attention_bias", file, false);
  out.o_bias = out.qkv_bias;
  out.mlp_bias = optional_flag(config, "mlp_bias", file, false);
}
}  // namespace

Architecture describe_llama() { return {"llama", {"LlamaForCausalLM"}, &parse_llama}; }

}  // namespace loom::model
