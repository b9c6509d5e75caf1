// The model card: a Hugging Face model directory's config.json and generation_config.json, read and range-checked
// in one place, without torch. Every user of the model's description reads it from here: the engine (DecoderModel,
// RoPE, tensor-parallel layout), rank 0's checks before any work (run, validate), the cost model, max_context, the
// method rules and `list models`. No other code opens config.json.
// Accepts both the transformers 4.x layout (rope_theta at top level, rope_scaling {type|rope_type, ...},
// torch_dtype) and the 5.x layout (rope_parameters {rope_theta, rope_type, ...}, dtype). The architecture
// (model_type, architectures/) decides its own fields and what it refuses.
// Bad, missing or out-of-range fields are loom::InputError naming config.json (or generation_config.json) and the key.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace loom::model {

struct RopeConfig {
  std::string type = "default";  // default|linear|dynamic|llama3|yarn|longrope
  double theta = 10000.0;
  double factor = 1.0;  // longrope: only sets the default attention factor (absent: max / original max positions)
  double low_freq_factor = 1.0;   // llama3
  double high_freq_factor = 4.0;  // llama3
  int64_t original_max_position_embeddings = 0;  // llama3, yarn, longrope
  std::optional<double> attention_factor;        // yarn, longrope
  std::optional<double> beta_fast;               // yarn (default 32)
  std::optional<double> beta_slow;               // yarn (default 1)
  std::optional<double> mscale;                  // yarn
  std::optional<double> mscale_all_dim;          // yarn
  bool truncate = true;                          // yarn
  // longrope (Phi-3-128k, Phi-3.5): per-frequency divisors of the default inv_freq, head_dim/2 each; a forward call
  // covering more than original_max_position_embeddings tokens uses long_factor, a shorter one short_factor.
  std::vector<double> short_factor, long_factor;
  double partial_rotary_factor = 1.0;
  std::string params_key = "rope_scaling";      // where the scaling keys were read (rope_scaling|rope_parameters)
};

struct ModelCard {
  std::string model_type;                // llama|mistral|qwen2|qwen3|qwen3_moe|phi3|glm|glm4|gemma3_text|gemma3
  std::vector<std::string> class_names;  // "architectures" (e.g. LlamaForCausalLM); may be empty
  int64_t hidden_size = 0;
  int64_t intermediate_size = 0;
  int64_t num_layers = 0;
  int64_t num_heads = 0;
  int64_t num_kv_heads = 0;
  int64_t head_dim = 0;
  int64_t vocab_size = 0;
  int64_t max_position_embeddings = 0;
  double rms_norm_eps = 1e-6;
  bool tie_word_embeddings = false;
  bool qkv_bias = false;     // q/k/v projections have biases (Qwen2; Llama attention_bias)
  bool o_bias = false;       // o_proj has a bias (Llama attention_bias)
  bool mlp_bias = false;
  bool qk_norm = false;      // per-head RMSNorm on q and k before RoPE (Qwen3)
  bool fused_projections = false;  // Phi-3: self_attn.qkv_proj and mlp.gate_up_proj hold q|k|v and gate|up rows
  bool fused_gate_up = false;      // GLM: mlp.gate_up_proj holds gate|up rows (q/k/v separate)
  // GLM: RoPE rotates adjacent pairs (x0, x1), (x2, x3), ... of the first head_dim * partial_rotary_factor dims.
  bool interleaved_rope = false;
  // GLM-4: the attention and MLP outputs are RMS-normed before their residual add (post_self_attn_layernorm,
  // post_mlp_layernorm).
  bool sandwich_norms = false;
  std::string activation = "silu";  // the gated MLP's: hidden_act (Gemma: hidden_activation), silu|gelu_pytorch_tanh
  // Gemma-3: RMSNorm weights w applied as (1 + w); the sandwich norms are post_attention_layernorm (attention
  // output), pre_feedforward_layernorm (MLP input), post_feedforward_layernorm (MLP output).
  bool gemma_norms = false;
  bool scaled_embeddings = false;       // Gemma-3: embeddings x sqrt(hidden_size) (rounded to the compute dtype)
  double query_pre_attn_scalar = 0;     // Gemma-3: attention scale 1 / sqrt(this); 0: 1 / sqrt(head_dim)
  double final_logit_softcapping = 0;   // Gemma-3: logits = cap * tanh(logits / cap); 0: none
  std::optional<RopeConfig> sliding_rope;  // Gemma-3: the RoPE of the sliding layers (rope_local_base_freq)
  // Sliding-window attention: a sliding layer's query at position p attends positions (p - sliding_window, p] and its
  // cache keeps only that window. sliding_window 0: every layer attends the whole prefix.
  int64_t sliding_window = 0;
  std::vector<bool> sliding_layers;  // num_layers entries when sliding_window > 0
  // Qwen3-MoE: the layers sparse_layers marks run a mixture-of-experts block in place of the dense MLP: a router
  // [num_experts, hidden] (softmax in fp32), the top num_experts_per_tok experts per token (their probabilities
  // renormalised to sum 1 when norm_topk_prob), each a SiLU gated MLP of moe_intermediate_size. num_experts 0: dense.
  int64_t num_experts = 0;
  int64_t num_experts_per_tok = 0;
  int64_t moe_intermediate_size = 0;
  bool norm_topk_prob = false;
  std::vector<bool> sparse_layers;  // num_layers entries when num_experts > 0
  RopeConfig rope;
  std::string torch_dtype = "float32";  // bfloat16|float16|float32
  std::vector<int32_t> eos_token_ids;   // generation_config.json, else config.json
  std::optional<int32_t> bos_token_id;
  std::filesystem::path config_file;
};

// <model_dir>/config.json: the one place its name is spelled.
std::filesystem::path config_path(const std::filesystem::path& model_dir);

// Reads <dir>/config.json (the architecture decides its own fields, see architectures/) and
// <dir>/generation_config.json when present, then check_model_card.
ModelCard read_model_card(const std::filesystem::path& model_dir);

// The bytes of <dir>/config.json as they are (stored in the results file, hashed into the run identity), without
// parsing them. InputError naming the file when it cannot be read.
std::string read_config_text(const std::filesystem::path& model_dir);

// Fields shared by every supported architecture (used by the architecture parsers).
void parse_common_fields(const nlohmann::json& config, const std::string& file, ModelCard& out);
// A boolean key of config.json (null or absent: `fallback`); another type is an InputError naming the key.
bool optional_flag(const nlohmann::json& config, const std::string& key, const std::string& file, bool fallback);
// sliding_window (null or absent: none) and which layers slide: "layer_types" when present (transformers 5.x,
// "sliding_attention"|"full_attention" per layer), else layers first_sliding_layer.. (Mistral 0, Qwen2
// max_window_layers). InputError naming the key for a window that is not a positive integer or a bad layer_types.
void parse_sliding_window(const nlohmann::json& config, const std::string& file, int64_t first_sliding_layer,
                          ModelCard& out);
RopeConfig parse_rope(const nlohmann::json& config, const std::string& file, int64_t max_position_embeddings);

// Refuses values no real checkpoint has (they would run and silently change the output): sizes <= 0 or absurdly
// large, head_dim odd or <= 0, rms_norm_eps outside (0, 0.01], rope_theta outside [100, 1e12], a RoPE scaling
// factor below 1, llama3 high_freq_factor <= low_freq_factor, longrope short_factor / long_factor not head_dim/2
// positive numbers, token ids outside [0, vocab_size). InputError names
// config.json and the key. read_model_card calls it; the limits are listed in docs/trust-inputs.md.
void check_model_card(const ModelCard& config, const std::string& file);

// The window of `layer` in tokens, 0 when the layer attends the whole prefix.
int64_t layer_window(const ModelCard& config, int64_t layer);

// Whether `layer` runs a mixture-of-experts block (Qwen3-MoE) instead of the dense MLP.
bool sparse_layer(const ModelCard& config, int64_t layer);
// Whether any layer does.
bool has_sparse_layers(const ModelCard& config);

// The longest sequence (prompt + output) the model was trained for: max_position_embeddings, or factor x
// original_max_position_embeddings for linear and YaRN scaling when larger; 0 (no limit) for dynamic NTK.
int64_t trained_context(const ModelCard& config);

// Parameters of the per-layer linears (q, k, v, o and the gated MLP; no embeddings, no LM head): the cost model's
// measure of a model's size. A mixture-of-experts layer counts what one token runs through: the router and
// num_experts_per_tok experts.
double linear_params(const ModelCard& config);

}  // namespace loom::model
