// Mistral (MistralForCausalLM): the Llama decoder without biases, with sliding-window attention on every layer when
// sliding_window is set (v0.1: 4096; null in later releases).
#include "model_card/architectures/architecture.h"

namespace loom::model {

namespace {
void parse_mistral(const nlohmann::json& config, const std::string& file, ModelCard& out) {
  parse_sliding_window(config, file, 0, out);
}
}  // namespace

Architecture describe_mistral() { return {"mistral", {"MistralForCausalLM"}, &parse_mistral}; }

}  // namespace loom::model
