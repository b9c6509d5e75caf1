#include "rank/model/model_config.h"

#include "common/error.h"
#include "rank/model/architectures/architecture.h"

#include <nlohmann/json.hpp>

#include <fstream>

namespace loom::model {

namespace {

nlohmann::json read_json(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw InputError(path.string(), 0, "", "cannot open the file");
  try {
    return nlohmann::json::parse(in);
  } catch (const nlohmann::json::parse_error& e) {
    throw InputError(path.string(), 0, "", fmt::format("invalid JSON: {}", e.what()));
  }
}

template <class T>
T required(const nlohmann::json& object, const std::string& key, const std::string& file, const char* what) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) throw InputError(file, 0, key, fmt::format("missing; expected {}", what));
  try {
    return it->get<T>();
  } catch (const nlohmann::json::exception&) {
    throw InputError(file, 0, key, fmt::format("expected {}, got {}", what, it->dump()));
  }
}

template <class T>
std::optional<T> optional_field(const nlohmann::json& object, const std::string& key, const std::string& file,
                                const char* what) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return std::nullopt;
  try {
    return it->get<T>();
  } catch (const nlohmann::json::exception&) {
    throw InputError(file, 0, key, fmt::format("expected {}, got {}", what, it->dump()));
  }
}

// eos_token_id: an integer or a list of integers.
std::vector<int32_t> token_ids(const nlohmann::json& object, const std::string& key, const std::string& file) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return {};
  if (it->is_number_integer()) return {it->get<int32_t>()};
  if (it->is_array()) {
    std::vector<int32_t> ids;
    for (const auto& id : *it) {
      if (!id.is_number_integer()) throw InputError(file, 0, key, "expected an integer or a list of integers");
      ids.push_back(id.get<int32_t>());
    }
    return ids;
  }
  throw InputError(file, 0, key, "expected an integer or a list of integers");
}

}  // namespace

RopeConfig parse_rope(const nlohmann::json& config, const std::string& file, int64_t max_position_embeddings) {
  RopeConfig rope;
  nlohmann::json params = nlohmann::json::object();
  std::string key = "rope_scaling";
  if (config.contains("rope_parameters") && config["rope_parameters"].is_object()) {
    params = config["rope_parameters"];
    key = "rope_parameters";
  } else if (config.contains("rope_scaling") && config["rope_scaling"].is_object()) {
    params = config["rope_scaling"];
  }
  rope.theta = optional_field<double>(params, "rope_theta", file, "a number")
                   .value_or(optional_field<double>(config, "rope_theta", file, "a number").value_or(10000.0));
  rope.type = optional_field<std::string>(params, "rope_type", file, "a string")
                  .value_or(optional_field<std::string>(params, "type", file, "a string").value_or("default"));
  rope.partial_rotary_factor =
      optional_field<double>(params, "partial_rotary_factor", file, "a number")
          .value_or(optional_field<double>(config, "partial_rotary_factor", file, "a number").value_or(1.0));
  const std::string where = key + ".";
  auto factor = optional_field<double>(params, "factor", file, "a number");
  if (rope.type == "default") return rope;
  if (rope.type != "linear" && rope.type != "dynamic" && rope.type != "llama3" && rope.type != "yarn") {
    throw InputError(file, 0, where + "rope_type",
                     fmt::format("unsupported RoPE type '{}' (supported: default, linear, dynamic, llama3, yarn)",
                                 rope.type));
  }
  // transformers: config.original_max_position_embeddings wins, then the rope dict's, then max_position_embeddings.
  rope.original_max_position_embeddings =
      optional_field<int64_t>(config, "original_max_position_embeddings", file, "an integer")
          .value_or(optional_field<int64_t>(params, "original_max_position_embeddings", file, "an integer")
                        .value_or(max_position_embeddings));
  if (rope.type == "yarn") {
    rope.factor = factor.value_or(static_cast<double>(max_position_embeddings) /
                                  static_cast<double>(rope.original_max_position_embeddings));
    rope.attention_factor = optional_field<double>(params, "attention_factor", file, "a number");
    rope.beta_fast = optional_field<double>(params, "beta_fast", file, "a number");
    rope.beta_slow = optional_field<double>(params, "beta_slow", file, "a number");
    rope.mscale = optional_field<double>(params, "mscale", file, "a number");
    rope.mscale_all_dim = optional_field<double>(params, "mscale_all_dim", file, "a number");
    rope.truncate = optional_field<bool>(params, "truncate", file, "a boolean").value_or(true);
    return rope;
  }
  if (!factor) throw InputError(file, 0, where + "factor", "missing; expected a number");
  rope.factor = *factor;
  if (rope.type == "llama3") {
    rope.low_freq_factor = required<double>(params, "low_freq_factor", file, "a number");
    rope.high_freq_factor = required<double>(params, "high_freq_factor", file, "a number");
  }
  return rope;
}

void parse_common_fields(const nlohmann::json& config, const std::string& file, ModelConfig& out) {
  out.hidden_size = required<int64_t>(config, "hidden_size", file, "an integer");
  out.intermediate_size = required<int64_t>(config, "intermediate_size", file, "an integer");
  out.num_layers = required<int64_t>(config, "num_hidden_layers", file, "an integer");
  out.num_heads = required<int64_t>(config, "num_attention_heads", file, "an integer");
  out.num_kv_heads =
      optional_field<int64_t>(config, "num_key_value_heads", file, "an integer").value_or(out.num_heads);
  out.vocab_size = required<int64_t>(config, "vocab_size", file, "an integer");
  out.max_position_embeddings = required<int64_t>(config, "max_position_embeddings", file, "an integer");
  out.rms_norm_eps = optional_field<double>(config, "rms_norm_eps", file, "a number").value_or(1e-6);
  out.tie_word_embeddings = optional_field<bool>(config, "tie_word_embeddings", file, "a boolean").value_or(false);
  if (out.num_heads <= 0 || out.hidden_size <= 0 || out.num_kv_heads <= 0 || out.num_heads % out.num_kv_heads) {
    throw InputError(file, 0, "num_key_value_heads",
                     fmt::format("expected a positive divisor of num_attention_heads ({}), got {}", out.num_heads,
                                 out.num_kv_heads));
  }
  out.head_dim = optional_field<int64_t>(config, "head_dim", file, "an integer")
                     .value_or(out.hidden_size / out.num_heads);
  const std::string act = optional_field<std::string>(config, "hidden_act", file, "a string").value_or("silu");
  if (act != "silu") throw InputError(file, 0, "hidden_act", fmt::format("expected silu, got '{}'", act));
  out.rope = parse_rope(config, file, out.max_position_embeddings);
  if (out.rope.partial_rotary_factor != 1.0) {
    throw InputError(file, 0, "partial_rotary_factor", "partial rotary embeddings are not supported; expected 1.0");
  }
  out.torch_dtype = optional_field<std::string>(config, "dtype", file, "a string")
                        .value_or(optional_field<std::string>(config, "torch_dtype", file, "a string")
                                      .value_or("float32"));
  out.eos_token_ids = token_ids(config, "eos_token_id", file);
  auto bos = token_ids(config, "bos_token_id", file);
  if (!bos.empty()) out.bos_token_id = bos.front();
}

ModelConfig load_model_config(const std::filesystem::path& model_dir) {
  const std::filesystem::path path = model_dir / "config.json";
  const std::string file = path.string();
  if (!std::filesystem::exists(path)) {
    throw InputError(file, 0, "", "missing config.json: expected a Hugging Face model directory");
  }
  const nlohmann::json config = read_json(path);
  if (!config.is_object()) throw InputError(file, 0, "", "expected a JSON object");
  ModelConfig out;
  out.config_file = path;
  out.model_type = required<std::string>(config, "model_type", file, "a string");
  const Architecture& arch = find_architecture(out.model_type, file);
  parse_common_fields(config, file, out);
  arch.parse(config, file, out);

  const std::filesystem::path generation_path = model_dir / "generation_config.json";
  if (std::filesystem::exists(generation_path)) {
    const nlohmann::json generation = read_json(generation_path);
    auto eos = token_ids(generation, "eos_token_id", generation_path.string());
    if (!eos.empty()) out.eos_token_ids = eos;
  }
  return out;
}

}  // namespace loom::model
