// The architecture registry (llama.cpp-style: one file per architecture, one shared decoder implementation).
// An architecture maps config.json's model_type to the differences it has from the shared Llama-style decoder
// (biases, q/k norms, which config keys it reads). Adding one: a new file with a describe_<name>() and one line in
// architecture.cpp's table.
#pragma once

#include "model_card/model_card.h"

#include <nlohmann/json_fwd.hpp>

#include <string>
#include <vector>

namespace loom::model {

struct Architecture {
  std::string model_type;                 // config.json "model_type"
  std::vector<std::string> class_names;   // config.json "architectures" entries it accepts
  // Fills the architecture-specific fields of `out` (after parse_common_fields) and rejects what it cannot run.
  void (*parse)(const nlohmann::json& config, const std::string& file, ModelCard& out);
  // Optional: rewrites config.json before any field is read (Gemma-3: the multimodal text_config, defaults).
  void (*prepare)(nlohmann::json& config, const std::string& file) = nullptr;
};

Architecture describe_llama();
Architecture describe_mistral();
Architecture describe_qwen2();
Architecture describe_qwen3();
Architecture describe_qwen3_moe();
Architecture describe_phi3();
Architecture describe_glm();
Architecture describe_glm4();
Architecture describe_gemma3_text();
Architecture describe_gemma3();

// Qwen2/Qwen3's sliding window: only with use_sliding_window true (then sliding_window is required), on layers
// max_window_layers.. (default 28, as transformers) unless layer_types says otherwise.
void parse_qwen_sliding_window(const nlohmann::json& config, const std::string& file, ModelCard& out);

const std::vector<Architecture>& supported_architectures();
// Throws InputError naming config.json and model_type when the architecture is not supported.
const Architecture& find_architecture(const std::string& model_type, const std::string& file);

}  // namespace loom::model
