// Mistral (MistralForCausalLM): the Llama decoder without biases. Sliding-window attention (v0.1's
// sliding_window: 4096) is unsupported: such a config is accepted only when the window covers
// max_position_embeddings, otherwise it is rejected rather than silently computing full attention.
#include "model_card/architectures/architecture.h"

#include "common/error.h"

#include <nlohmann/json.hpp>

namespace loom::model {

namespace {
void parse_mistral(const nlohmann::json& config, const std::string& file, ModelCard& out) {
  auto window = config.find("sliding_window");
  if (window != config.end() && window->is_number_integer() &&
      window->get<int64_t>() < out.max_position_embeddings) {
    throw InputError(file, 0, "sliding_window",
                     fmt::format("sliding-window attention ({} < max_position_embeddings {}) is not supported; "
                                 "expected null", window->get<int64_t>(), out.max_position_embeddings));
  }
}
}  // namespace

Architecture describe_mistral() { return {"mistral", {"MistralForCausalLM"}, &parse_mistral}; }

}  // namespace loom::model
