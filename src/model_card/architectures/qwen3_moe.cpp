// Qwen3-MoE (Qwen3MoeForCausalLM, e.g. Qwen3-30B-A3B, Qwen3-235B-A22B): Qwen3's attention (q_norm / k_norm,
// explicit head_dim, optional attention_bias, sliding window as Qwen2) with sparse mixture-of-experts blocks in place
// of the MLP. Layer i is sparse when it is not in mlp_only_layers and num_experts > 0 and (i + 1) is a multiple of
// decoder_sparse_step (transformers' rule); other layers keep the dense MLP of intermediate_size. A sparse block:
// router softmax over num_experts (fp32), top num_experts_per_tok experts, their probabilities renormalised to sum
// to 1 when norm_topk_prob, each expert a SiLU gated MLP of moe_intermediate_size; no shared expert. Keys absent
// from config.json take Qwen3MoeConfig's defaults. The expert count is num_experts (the Qwen release, transformers
// 4.x) or num_local_experts (what transformers 5.x writes). Unlike Qwen3, use_sliding_window makes every layer slide
// (transformers' Qwen3MoeAttention has no max_window_layers).
#include "model_card/architectures/architecture.h"

#include "common/error.h"

#include <nlohmann/json.hpp>

#include <fmt/format.h>

namespace loom::model {

namespace {

// An integer key of config.json (absent or null: `fallback`) of at least `min_value`.
int64_t integer_key(const nlohmann::json& config, const std::string& key, const std::string& file, int64_t fallback,
                    int64_t min_value) {
  auto it = config.find(key);
  if (it == config.end() || it->is_null()) return fallback;
  if (!it->is_number_integer() || it->get<int64_t>() < min_value) {
    throw InputError(file, 0, key, fmt::format("expected an integer of at least {}, got {}", min_value, it->dump()));
  }
  return it->get<int64_t>();
}

void parse_qwen3_moe(const nlohmann::json& config, const std::string& file, ModelCard& out) {
  out.qk_norm = true;
  out.qkv_bias = optional_flag(config, "attention_bias", file, false);
  out.o_bias = out.qkv_bias;
  if (optional_flag(config, "use_sliding_window", file, false)) {
    auto window = config.find("sliding_window");
    if (window == config.end() || window->is_null()) {
      throw InputError(file, 0, "use_sliding_window", "true needs sliding_window, the window in tokens");
    }
    parse_sliding_window(config, file, 0, out);
  }
  // Qwen3MoeConfig's defaults (transformers 5.x).
  const int64_t local = integer_key(config, "num_local_experts", file, 128, 0);
  out.num_experts = integer_key(config, "num_experts", file, local, 0);
  if (config.contains("num_local_experts") && config.contains("num_experts") && out.num_experts != local) {
    throw InputError(file, 0, "num_local_experts",
                     fmt::format("the same expert count as num_experts ({}), got {}", out.num_experts, local));
  }
  out.num_experts_per_tok = integer_key(config, "num_experts_per_tok", file, 8, 1);
  out.moe_intermediate_size = integer_key(config, "moe_intermediate_size", file, 768, 1);
  out.norm_topk_prob = optional_flag(config, "norm_topk_prob", file, false);
  const int64_t step = integer_key(config, "decoder_sparse_step", file, 1, 1);
  if (out.num_experts > 0 && out.num_experts_per_tok > out.num_experts) {
    throw InputError(file, 0, "num_experts_per_tok",
                     fmt::format("expected at most num_experts ({}), got {}", out.num_experts,
                                 out.num_experts_per_tok));
  }
  std::vector<bool> dense_only(static_cast<size_t>(out.num_layers), false);
  auto only = config.find("mlp_only_layers");
  if (only != config.end() && !only->is_null()) {
    if (!only->is_array()) throw InputError(file, 0, "mlp_only_layers", "expected a list of layer indices");
    for (const auto& layer : *only) {
      if (!layer.is_number_integer() || layer.get<int64_t>() < 0 || layer.get<int64_t>() >= out.num_layers) {
        throw InputError(file, 0, "mlp_only_layers",
                         fmt::format("expected layer indices in [0, num_hidden_layers = {}), got {}", out.num_layers,
                                     layer.dump()));
      }
      dense_only[static_cast<size_t>(layer.get<int64_t>())] = true;
    }
  }
  out.sparse_layers.assign(static_cast<size_t>(out.num_layers), false);
  for (int64_t layer = 0; layer < out.num_layers; ++layer) {
    out.sparse_layers[static_cast<size_t>(layer)] =
        !dense_only[static_cast<size_t>(layer)] && out.num_experts > 0 && (layer + 1) % step == 0;
  }
}

}  // namespace

Architecture describe_qwen3_moe() { return {"qwen3_moe", {"Qwen3MoeForCausalLM"}, &parse_qwen3_moe}; }

}  // namespace loom::model
