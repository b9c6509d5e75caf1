// Qwen2 / Qwen2.5 (Qwen2ForCausalLM): biases on q/k/v (not o_proj), tied embeddings in the small models,
// YaRN rope_scaling for long context. use_sliding_window=true is rejected: sliding-window attention is unsupported.
#include "model_card/architectures/architecture.h"

#include "common/error.h"

#include <nlohmann/json.hpp>

namespace loom::model {

namespace {
void parse_qwen2(const nlohmann::json& config, const std::string& file, ModelCard& out) {
  out.qkv_bias = true;
  out.o_bias = false;
  if (optional_flag(config, "use_sliding_window", file, false)) {
    throw InputError(file, 0, "use_sliding_window", "sliding-window attention is not supported; expected false");
  }
}
}  // namespace

Architecture describe_qwen2() { return {"qwen2", {"Qwen2ForCausalLM"}, &parse_qwen2}; }

}  // namespace loom::model
