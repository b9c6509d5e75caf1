#include "model_card/architectures/architecture.h"

#include "common/error.h"

#include <nlohmann/json.hpp>

namespace loom::model {

void parse_qwen_sliding_window(const nlohmann::json& config, const std::string& file, ModelCard& out) {
  if (!optional_flag(config, "use_sliding_window", file, false)) return;
  auto window = config.find("sliding_window");
  if (window == config.end() || window->is_null()) {
    throw InputError(file, 0, "use_sliding_window", "true needs sliding_window, the window in tokens");
  }
  auto first = config.find("max_window_layers");
  int64_t first_sliding = 28;
  if (first != config.end() && !first->is_null()) {
    if (!first->is_number_integer() || first->get<int64_t>() < 0) {
      throw InputError(file, 0, "max_window_layers", "expected a non-negative integer");
    }
    first_sliding = first->get<int64_t>();
  }
  parse_sliding_window(config, file, first_sliding, out);
}

const std::vector<Architecture>& supported_architectures() {
  static const std::vector<Architecture> table = {describe_llama(), describe_mistral(), describe_qwen2(),
                                                  describe_qwen3(), describe_qwen3_moe(), describe_phi3(),
                                                  describe_glm(), describe_glm4(), describe_gemma3_text(),
                                                  describe_gemma3()};
  return table;
}

const Architecture& find_architecture(const std::string& model_type, const std::string& file) {
  std::string known;
  for (const Architecture& arch : supported_architectures()) {
    if (arch.model_type == model_type) return arch;
    known += (known.empty() ? "" : ", ") + arch.model_type;
  }
  throw InputError(file, 0, "model_type", fmt::format("unsupported architecture '{}' (supported: {})", model_type,
                                                      known));
}

}  // namespace loom::model
