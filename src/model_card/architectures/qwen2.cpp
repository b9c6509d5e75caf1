// Qwen2 / Qwen2.5 (Qwen2ForCausalLM): biases on q/k/v (not o_proj), tied embeddings in the small models,
// YaRN rope_scaling for long context; use_sliding_window: layers max_window_layers.. attend a sliding window.
#include "model_card/architectures/architecture.h"

#include "common/error.h"

#include <nlohmann/json.hpp>

namespace loom::model {

namespace {
void parse_qwen2(const nlohmann::json& config, const std::string& file, ModelCard& out) {
  out.qkv_bias = true;
  out.o_bias = false;
  parse_qwen_sliding_window(config, file, out);
}
}  // namespace

Architecture describe_qwen2() { return {"qwen2", {"Qwen2ForCausalLM"}, &parse_qwen2}; }

}  // namespace loom::model
