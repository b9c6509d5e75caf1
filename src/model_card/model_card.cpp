#include "model_card/model_card.h"

#include "common/error.h"
#include "common/json_errors.h"
#include "model_card/architectures/architecture.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <type_traits>

namespace loom::model {

namespace {

nlohmann::json read_json(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path.string(), 0, "", "cannot open the file");
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    throw json_syntax_error(path.string(), e, text);
  }
}

// nlohmann converts between number types silently (hidden_size 256.7 would read as 256): integers must be written
// as integers.
template <class T>
std::optional<T> typed_value(const nlohmann::json& value) {
  if constexpr (std::is_same_v<T, int64_t>) {
    if (!value.is_number_integer()) return std::nullopt;
  }
  if constexpr (std::is_same_v<T, double>) {
    if (!value.is_number()) return std::nullopt;
  }
  return value.get<T>();
}

// A short rendering of the offending value for error messages.
std::string shown(const nlohmann::json& value) {
  std::string text = value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return text.size() > 60 ? text.substr(0, 57) + "..." : text;
}

template <class T>
T checked_value(const nlohmann::json& value, const std::string& key, const std::string& file, const char* what) {
  std::optional<T> result;
  try {
    result = typed_value<T>(value);
  } catch (const nlohmann::json::exception&) {
  }
  if (!result) throw InputError(file, 0, key, fmt::format("expected {}, got {}", what, shown(value)));
  return *result;
}

template <class T>
T required(const nlohmann::json& object, const std::string& key, const std::string& file, const char* what) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) throw InputError(file, 0, key, fmt::format("missing; expected {}", what));
  return checked_value<T>(*it, key, file, what);
}

template <class T>
std::optional<T> optional_field(const nlohmann::json& object, const std::string& key, const std::string& file,
                                const char* what) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return std::nullopt;
  return checked_value<T>(*it, key, file, what);
}

// A list of numbers (longrope's short_factor / long_factor); missing, null or another type is an InputError naming
// `shown_key`.
std::vector<double> number_list(const nlohmann::json& object, const std::string& key, const std::string& shown_key,
                                const std::string& file) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) throw InputError(file, 0, shown_key, "missing; expected a list of numbers");
  std::vector<double> values;
  if (it->is_array()) {
    for (const auto& value : *it) {
      if (!value.is_number()) break;
      values.push_back(value.get<double>());
    }
    if (values.size() == it->size()) return values;
  }
  throw InputError(file, 0, shown_key, fmt::format("expected a list of numbers, got {}", shown(*it)));
}

// eos_token_id: an integer or a list of integers.
std::vector<int32_t> token_ids(const nlohmann::json& object, const std::string& key, const std::string& file) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return {};
  auto id_of = [&](const nlohmann::json& id) {
    if (!id.is_number_integer()) throw InputError(file, 0, key, "expected an integer or a list of integers");
    // nlohmann stores non-negative integers as unsigned: beyond int64 they read as -1 here, refused below.
    const int64_t value = id.is_number_unsigned() && id.get<uint64_t>() > INT64_MAX ? -1 : id.get<int64_t>();
    if (value < 0 || value > std::numeric_limits<int32_t>::max())
      throw InputError(file, 0, key, fmt::format("expected token ids in [0, vocab_size), got {}", shown(id)));
    return static_cast<int32_t>(value);
  };
  if (it->is_number_integer()) return {id_of(*it)};
  if (it->is_array()) {
    std::vector<int32_t> ids;
    for (const auto& id : *it) ids.push_back(id_of(id));
    return ids;
  }
  throw InputError(file, 0, key, "expected an integer or a list of integers");
}

// "architectures": a list of class names (absent or null: none).
std::vector<std::string> class_names(const nlohmann::json& config, const std::string& file) {
  auto it = config.find("architectures");
  if (it == config.end() || it->is_null()) return {};
  std::vector<std::string> names;
  if (it->is_array()) {
    for (const auto& name : *it) {
      if (!name.is_string()) break;
      names.push_back(name.get<std::string>());
    }
    if (names.size() == it->size()) return names;
  }
  throw InputError(file, 0, "architectures", fmt::format("expected a list of class names, got {}", shown(*it)));
}

// Range checks: values a real checkpoint never has would run anyway and silently change what is generated.
void check_positive(const std::string& file, const std::string& key, int64_t value, int64_t max_value) {
  if (value <= 0 || value > max_value)
    throw InputError(file, 0, key, fmt::format("a positive integer of at most {}, got {}", max_value, value));
}

void check_number(const std::string& file, const std::string& key, double value, double min_value, double max_value,
                  const char* expected) {
  if (!std::isfinite(value) || value < min_value || value > max_value)
    throw InputError(file, 0, key, fmt::format("{}, got {}", expected, value));
}

void check_optional(const std::string& file, const std::string& key, const std::optional<double>& value,
                    double min_value, const char* expected) {
  if (value) check_number(file, key, *value, min_value, std::numeric_limits<double>::max(), expected);
}

void check_token_ids(const std::string& file, const std::string& key, const std::vector<int32_t>& ids, int64_t vocab) {
  for (int32_t id : ids) {
    if (id < 0 || id >= vocab)
      throw InputError(file, 0, key, fmt::format("token ids in [0, vocab_size = {}), got {}", vocab, id));
  }
}

}  // namespace

bool optional_flag(const nlohmann::json& config, const std::string& key, const std::string& file, bool fallback) {
  return optional_field<bool>(config, key, file, "true or false").value_or(fallback);
}

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
  rope.params_key = key;
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
  if (rope.type != "linear" && rope.type != "dynamic" && rope.type != "llama3" && rope.type != "yarn" &&
      rope.type != "longrope") {
    throw InputError(file, 0, where + "rope_type",
                     fmt::format("unsupported RoPE type '{}' (supported: default, linear, dynamic, llama3, yarn, "
                                 "longrope)",
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
  if (rope.type == "longrope") {
    // transformers' _compute_longrope_parameters: factor (absent: max_position_embeddings / original) only decides
    // the default attention factor. Phi-3's short_mscale / long_mscale keys are ignored there, and here.
    rope.short_factor = number_list(params, "short_factor", where + "short_factor", file);
    rope.long_factor = number_list(params, "long_factor", where + "long_factor", file);
    rope.attention_factor = optional_field<double>(params, "attention_factor", file, "a number");
    rope.factor = factor.value_or(static_cast<double>(max_position_embeddings) /
                                  static_cast<double>(rope.original_max_position_embeddings));
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

void parse_sliding_window(const nlohmann::json& config, const std::string& file, int64_t first_sliding_layer,
                          ModelCard& out) {
  const std::optional<int64_t> window = optional_field<int64_t>(config, "sliding_window", file, "an integer");
  out.sliding_window = 0;
  out.sliding_layers.clear();
  if (!window) return;
  check_positive(file, "sliding_window", *window, int64_t{1} << 24);
  out.sliding_window = *window;
  auto types = config.find("layer_types");
  if (types != config.end() && !types->is_null()) {
    if (!types->is_array() || static_cast<int64_t>(types->size()) != out.num_layers) {
      throw InputError(file, 0, "layer_types",
                       fmt::format("expected a list of {} entries (num_hidden_layers), got {}", out.num_layers,
                                   shown(*types)));
    }
    for (const auto& type : *types) {
      if (type == "sliding_attention") {
        out.sliding_layers.push_back(true);
      } else if (type == "full_attention") {
        out.sliding_layers.push_back(false);
      } else {
        throw InputError(file, 0, "layer_types",
                         fmt::format("expected \"sliding_attention\" or \"full_attention\", got {}", shown(type)));
      }
    }
  } else {
    for (int64_t layer = 0; layer < out.num_layers; ++layer) out.sliding_layers.push_back(layer >= first_sliding_layer);
  }
  if (std::find(out.sliding_layers.begin(), out.sliding_layers.end(), true) == out.sliding_layers.end()) {
    out.sliding_window = 0;
    out.sliding_layers.clear();
  }
}

int64_t layer_window(const ModelCard& config, int64_t layer) {
  if (config.sliding_window <= 0 || layer < 0 || layer >= static_cast<int64_t>(config.sliding_layers.size())) return 0;
  return config.sliding_layers[static_cast<size_t>(layer)] ? config.sliding_window : 0;
}

void parse_common_fields(const nlohmann::json& config, const std::string& file, ModelCard& out) {
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
  out.activation = optional_field<std::string>(config, "hidden_act", file, "a string").value_or("silu");
  if (out.activation != "silu" && out.activation != "gelu_pytorch_tanh") {
    throw InputError(file, 0, "hidden_act",
                     fmt::format("expected silu or gelu_pytorch_tanh, got '{}'", out.activation));
  }
  out.rope = parse_rope(config, file, out.max_position_embeddings);
  out.torch_dtype = optional_field<std::string>(config, "dtype", file, "a string")
                        .value_or(optional_field<std::string>(config, "torch_dtype", file, "a string")
                                      .value_or("float32"));
  out.eos_token_ids = token_ids(config, "eos_token_id", file);
  auto bos = token_ids(config, "bos_token_id", file);
  if (!bos.empty()) out.bos_token_id = bos.front();
}

std::filesystem::path config_path(const std::filesystem::path& model_dir) { return model_dir / "config.json"; }

std::string read_config_text(const std::filesystem::path& model_dir) {
  const std::filesystem::path path = config_path(model_dir);
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path.string(), 0, "", "cannot open the file");
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

ModelCard read_model_card(const std::filesystem::path& model_dir) {
  const std::filesystem::path path = config_path(model_dir);
  const std::string file = path.string();
  if (!std::filesystem::exists(path)) {
    throw InputError(file, 0, "", "missing config.json: expected a Hugging Face model directory");
  }
  nlohmann::json config = read_json(path);
  if (!config.is_object()) throw InputError(file, 0, "", "expected a JSON object");
  ModelCard out;
  out.config_file = path;
  out.model_type = required<std::string>(config, "model_type", file, "a string");
  out.class_names = class_names(config, file);
  const Architecture& arch = find_architecture(out.model_type, file);
  if (arch.prepare != nullptr) arch.prepare(config, file);
  parse_common_fields(config, file, out);
  arch.parse(config, file, out);
  check_model_card(out, file);

  const std::filesystem::path generation_path = model_dir / "generation_config.json";
  if (std::filesystem::exists(generation_path)) {
    const nlohmann::json generation = read_json(generation_path);
    auto eos = token_ids(generation, "eos_token_id", generation_path.string());
    if (!eos.empty()) out.eos_token_ids = eos;
    check_token_ids(generation_path.string(), "eos_token_id", out.eos_token_ids, out.vocab_size);
  }
  return out;
}

void check_model_card(const ModelCard& c, const std::string& file) {
  check_positive(file, "hidden_size", c.hidden_size, int64_t{1} << 17);
  check_positive(file, "intermediate_size", c.intermediate_size, int64_t{1} << 20);
  check_positive(file, "num_hidden_layers", c.num_layers, 1024);
  check_positive(file, "num_attention_heads", c.num_heads, 1024);
  if (has_sparse_layers(c)) {
    check_positive(file, "num_experts", c.num_experts, 4096);
    check_positive(file, "moe_intermediate_size", c.moe_intermediate_size, int64_t{1} << 20);
  }
  check_positive(file, "vocab_size", c.vocab_size, int64_t{1} << 24);
  check_positive(file, "max_position_embeddings", c.max_position_embeddings, int64_t{1} << 24);
  if (c.head_dim <= 0 || c.head_dim > 1024 || c.head_dim % 2 != 0)
    throw InputError(file, 0, "head_dim",
                     fmt::format("a positive even number of at most 1024 (RoPE rotates pairs of dimensions), got {}{}",
                                 c.head_dim, c.head_dim == 0 ? " (hidden_size / num_attention_heads)" : ""));
  // rms_norm_eps: checkpoints use 1e-6 or 1e-5; 0 or less divides by zero on a zero row, large values flatten it.
  check_number(file, "rms_norm_eps", c.rms_norm_eps, std::numeric_limits<double>::min(), 1e-2,
               "a number in (0, 0.01] (checkpoints use 1e-6 or 1e-5)");
  const RopeConfig& r = c.rope;
  // Partial rotary embeddings: only GLM's (interleaved pairs, default RoPE) are supported.
  if (r.partial_rotary_factor != 1.0) {
    if (!c.interleaved_rope) {
      throw InputError(file, 0, "partial_rotary_factor", "partial rotary embeddings are not supported; expected 1.0");
    }
    const double rotary = static_cast<double>(c.head_dim) * r.partial_rotary_factor;
    if (!(r.partial_rotary_factor > 0 && r.partial_rotary_factor < 1) || static_cast<int64_t>(rotary) % 2 != 0 ||
        static_cast<int64_t>(rotary) == 0) {
      throw InputError(file, 0, "partial_rotary_factor",
                       fmt::format("a factor in (0, 1] giving an even number of rotary dims of head_dim {}, got {}",
                                   c.head_dim, r.partial_rotary_factor));
    }
    if (r.type != "default") {
      throw InputError(file, 0, r.params_key + ".rope_type",
                       fmt::format("partial rotary embeddings need the default RoPE, got '{}'", r.type));
    }
  }
  // rope_theta: the RoPE base; checkpoints use 10000 to 1e8. Below 100 the lowest frequencies wrap within a few
  // tokens and positions become ambiguous.
  check_number(file, "rope_theta", r.theta, 100.0, 1e12, "a RoPE base in [100, 1e12] (checkpoints use 1e4 to 1e8)");
  if (c.sliding_rope) {
    check_number(file, "rope_local_base_freq", c.sliding_rope->theta, 100.0, 1e12,
                 "a RoPE base in [100, 1e12] (checkpoints use 1e4)");
  }
  if (r.type != "default") {
    check_number(file, r.params_key + ".factor", r.factor, 1.0, 1e4,
                 r.type == "longrope" ? "a RoPE scaling factor in [1, 10000] (when absent: max_position_embeddings / "
                                        "original_max_position_embeddings)"
                                      : "a RoPE scaling factor in [1, 10000]");
    if (r.type != "dynamic")
      check_positive(file, "original_max_position_embeddings", r.original_max_position_embeddings,
                     int64_t{1} << 24);
  }
  if (r.type == "llama3") {
    check_number(file, r.params_key + ".low_freq_factor", r.low_freq_factor, 1e-6, 1e6, "a positive number");
    if (!(r.high_freq_factor > r.low_freq_factor) || !std::isfinite(r.high_freq_factor))
      throw InputError(file, 0, r.params_key + ".high_freq_factor",
                       fmt::format("a number greater than low_freq_factor ({}), got {}", r.low_freq_factor,
                                   r.high_freq_factor));
  }
  if (r.type == "yarn") {
    check_optional(file, r.params_key + ".attention_factor", r.attention_factor, 1e-6, "a positive number");
    check_optional(file, r.params_key + ".beta_fast", r.beta_fast, 1e-6, "a positive number");
    check_optional(file, r.params_key + ".beta_slow", r.beta_slow, 1e-6, "a positive number");
    check_optional(file, r.params_key + ".mscale", r.mscale, 0.0, "a non-negative number");
    check_optional(file, r.params_key + ".mscale_all_dim", r.mscale_all_dim, 0.0, "a non-negative number");
  }
  if (r.type == "longrope") {
    check_optional(file, r.params_key + ".attention_factor", r.attention_factor, 1e-6, "a positive number");
    // One divisor per rotated pair of dimensions (transformers warns and then fails to broadcast otherwise).
    for (const auto& [key, factors] : {std::pair<const char*, const std::vector<double>*>{"short_factor",
                                                                                           &r.short_factor},
                                       {"long_factor", &r.long_factor}}) {
      const std::string name = r.params_key + "." + key;
      if (static_cast<int64_t>(factors->size()) != c.head_dim / 2) {
        throw InputError(file, 0, name,
                         fmt::format("expected {} numbers (head_dim {} / 2, one per rotated pair), got {}",
                                     c.head_dim / 2, c.head_dim, factors->size()));
      }
      for (size_t i = 0; i < factors->size(); ++i) {
        if (!std::isfinite((*factors)[i]) || (*factors)[i] <= 0) {
          throw InputError(file, 0, name,
                           fmt::format("expected positive numbers (they divide the RoPE frequencies), got {} at "
                                       "index {}",
                                       (*factors)[i], i));
        }
      }
    }
  }
  check_token_ids(file, "eos_token_id", c.eos_token_ids, c.vocab_size);
  if (c.bos_token_id) check_token_ids(file, "bos_token_id", {*c.bos_token_id}, c.vocab_size);
}

bool sparse_layer(const ModelCard& config, int64_t layer) {
  if (config.num_experts <= 0 || layer < 0 || layer >= static_cast<int64_t>(config.sparse_layers.size())) return false;
  return config.sparse_layers[static_cast<size_t>(layer)];
}

bool has_sparse_layers(const ModelCard& config) {
  for (int64_t layer = 0; layer < config.num_layers; ++layer) {
    if (sparse_layer(config, layer)) return true;
  }
  return false;
}

int64_t trained_context(const ModelCard& config) {
  const RopeConfig& r = config.rope;
  if (r.type == "dynamic") return 0;  // dynamic NTK scaling stretches to any length
  if (r.type == "linear" || r.type == "yarn") {
    const int64_t original = r.original_max_position_embeddings > 0 ? r.original_max_position_embeddings
                                                                     : config.max_position_embeddings;
    return std::max(config.max_position_embeddings,
                    static_cast<int64_t>(std::llround(r.factor * static_cast<double>(original))));
  }
  return config.max_position_embeddings;
}

double linear_params(const ModelCard& c) {
  const double hidden = static_cast<double>(c.hidden_size);
  const double head_dim = static_cast<double>(c.head_dim);
  const double q_and_o = 2 * hidden * static_cast<double>(c.num_heads) * head_dim;
  const double k_and_v = 2 * hidden * static_cast<double>(c.num_kv_heads) * head_dim;
  const double mlp = 3 * hidden * static_cast<double>(c.intermediate_size);
  const double experts = hidden * static_cast<double>(c.num_experts) +
                         3 * hidden * static_cast<double>(c.moe_intermediate_size * c.num_experts_per_tok);
  double total = 0;
  for (int64_t layer = 0; layer < c.num_layers; ++layer) {
    total += q_and_o + k_and_v + (sparse_layer(c, layer) ? experts : mlp);
  }
  return total;
}

}  // namespace loom::model
