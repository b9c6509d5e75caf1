// Gemma 3 (Gemma3ForCausalLM, model_type gemma3_text; and Gemma3ForConditionalGeneration, model_type gemma3, run
// text-only: its text_config is read, the language model's weights are found under their language_model prefix).
// Differences from the Llama decoder: RMSNorm weights w applied as (1 + w) (Gemma3RMSNorm), norms on the attention
// output (post_attention_layernorm) and around the MLP (pre_feedforward_layernorm, post_feedforward_layernorm),
// per-head q/k norms, embeddings scaled by sqrt(hidden_size), attention scale 1 / sqrt(query_pre_attn_scalar),
// gelu_pytorch_tanh MLP, optional final_logit_softcapping; sliding-window layers from layer_types (or, in 4.x
// configs, every sliding_window_pattern-th layer global) with their own RoPE base (rope_local_base_freq, or
// rope_parameters.sliding_attention); the global layers' RoPE may be scaled. Missing keys take Gemma3TextConfig's
// defaults (text_config of the multimodal checkpoints lists only what differs). attn_logit_softcapping (no
// Gemma 3 checkpoint sets it) and use_bidirectional_attention are refused.
#include "model_card/architectures/architecture.h"

#include "common/error.h"

#include <nlohmann/json.hpp>

namespace loom::model {

namespace {

// transformers' Gemma3TextConfig defaults, for keys config.json leaves out.
void fill_text_defaults(nlohmann::json& text) {
  const nlohmann::json defaults = {{"vocab_size", 262208},       {"hidden_size", 2304},
                                   {"intermediate_size", 9216},  {"num_hidden_layers", 26},
                                   {"num_attention_heads", 8},   {"num_key_value_heads", 4},
                                   {"head_dim", 256},            {"max_position_embeddings", 131072},
                                   {"rms_norm_eps", 1e-6},       {"query_pre_attn_scalar", 256},
                                   {"sliding_window", 4096},     {"tie_word_embeddings", true},
                                   {"hidden_activation", "gelu_pytorch_tanh"}};
  for (const auto& [key, value] : defaults.items()) {
    if (!text.contains(key) || (key == "hidden_activation" && text[key].is_null())) text[key] = value;
  }
}

void prepare_gemma3(nlohmann::json& config, const std::string& file) {
  if (config.value("model_type", "") == "gemma3") {
    auto text = config.find("text_config");
    if (text == config.end() || !text->is_object()) {
      throw InputError(file, 0, "text_config", "expected an object (the language model's config)");
    }
    nlohmann::json inner = *text;
    // The multimodal config keeps some shared keys at top level.
    for (const char* key : {"eos_token_id", "bos_token_id", "dtype", "torch_dtype", "tie_word_embeddings"}) {
      if (!inner.contains(key) && config.contains(key)) inner[key] = config[key];
    }
    config = std::move(inner);
  }
  fill_text_defaults(config);
  // Gemma's activation key is hidden_activation; hidden_act (when also present) is what parse_common_fields reads.
  config["hidden_act"] = config["hidden_activation"];
}

const nlohmann::json* object_at(const nlohmann::json& config, const char* key, const char* inner) {
  auto it = config.find(key);
  if (it == config.end() || !it->is_object()) return nullptr;
  auto in = it->find(inner);
  return in != it->end() && in->is_object() ? &*in : nullptr;
}

void parse_gemma3(const nlohmann::json& config, const std::string& file, ModelCard& out) {
  if (optional_flag(config, "use_bidirectional_attention", file, false)) {
    throw InputError(file, 0, "use_bidirectional_attention",
                     "bidirectional attention is not supported; expected false");
  }
  auto attn_cap = config.find("attn_logit_softcapping");
  if (attn_cap != config.end() && !attn_cap->is_null()) {
    throw InputError(file, 0, "attn_logit_softcapping",
                     "attention logit soft-capping is not supported; expected null (as every Gemma 3 checkpoint)");
  }
  out.qk_norm = true;
  out.qkv_bias = optional_flag(config, "attention_bias", file, false);
  out.o_bias = out.qkv_bias;
  out.gemma_norms = true;
  out.sandwich_norms = true;
  out.scaled_embeddings = true;
  const auto scalar = config.find("query_pre_attn_scalar");
  if (!scalar->is_number() || scalar->get<double>() <= 0) {
    throw InputError(file, 0, "query_pre_attn_scalar", "expected a positive number");
  }
  out.query_pre_attn_scalar = scalar->get<double>();
  auto cap = config.find("final_logit_softcapping");
  if (cap != config.end() && !cap->is_null()) {
    if (!cap->is_number() || cap->get<double>() <= 0) {
      throw InputError(file, 0, "final_logit_softcapping", "expected a positive number or null");
    }
    out.final_logit_softcapping = cap->get<double>();
  }
  // RoPE: 5.x rope_parameters {full_attention: {...}, sliding_attention: {...}}; 4.x rope_theta (global, default
  // 1e6), rope_scaling (global layers) and rope_local_base_freq (sliding layers, default 1e4, unscaled).
  nlohmann::json global = {{"rope_theta", 1000000.0}}, local = {{"rope_theta", 10000.0}};
  if (const nlohmann::json* full = object_at(config, "rope_parameters", "full_attention")) {
    global = {{"rope_parameters", *full}};
    if (const nlohmann::json* sliding = object_at(config, "rope_parameters", "sliding_attention")) {
      local = {{"rope_parameters", *sliding}};
    }
  } else {
    for (const char* key : {"rope_theta", "rope_scaling"}) {
      if (config.contains(key) && !config[key].is_null()) global[key] = config[key];
    }
    if (config.contains("rope_local_base_freq")) local["rope_theta"] = config["rope_local_base_freq"];
  }
  out.rope = parse_rope(global, file, out.max_position_embeddings);
  if (out.rope.type == "dynamic") {
    throw InputError(file, 0, "rope_scaling.rope_type", "dynamic NTK RoPE is not supported for Gemma 3");
  }
  out.sliding_rope = parse_rope(local, file, out.max_position_embeddings);
  if (out.sliding_rope->type != "default") {
    throw InputError(file, 0, "rope_parameters.sliding_attention.rope_type",
                     fmt::format("the sliding layers' RoPE must be the default one, got '{}'", out.sliding_rope->type));
  }
  // Sliding layers: layer_types, else (4.x) all but every sliding_window_pattern-th (default 6).
  nlohmann::json layers = config;
  if (!layers.contains("layer_types") || layers["layer_types"].is_null()) {
    int64_t pattern = 6;
    auto it = config.find("sliding_window_pattern");
    if (it != config.end() && !it->is_null()) {
      if (!it->is_number_integer() || it->get<int64_t>() <= 0) {
        throw InputError(file, 0, "sliding_window_pattern", "expected a positive integer");
      }
      pattern = it->get<int64_t>();
    }
    nlohmann::json types = nlohmann::json::array();
    for (int64_t i = 0; i < out.num_layers; ++i) {
      types.push_back((i + 1) % pattern != 0 ? "sliding_attention" : "full_attention");
    }
    layers["layer_types"] = types;
  }
  parse_sliding_window(layers, file, 0, out);
}

}  // namespace

Architecture describe_gemma3_text() { return {"gemma3_text", {"Gemma3ForCausalLM"}, &parse_gemma3, &prepare_gemma3}; }
Architecture describe_gemma3() {
  return {"gemma3", {"Gemma3ForConditionalGeneration"}, &parse_gemma3, &prepare_gemma3};
}

}  // namespace loom::model
