#include "nli/deberta_v2.h"

#include "common/error.h"
#include "rank/model/weight_store.h"

#include <c10/core/InferenceMode.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <fstream>
#include <limits>
#include <sstream>

namespace loom::nli {

namespace fs = std::filesystem;

struct DebertaV2Classifier::Layer {
  at::Tensor q_w, q_b, k_w, k_b, v_w, v_b, attn_out_w, attn_out_b, attn_norm_w, attn_norm_b;
  at::Tensor inter_w, inter_b, out_w, out_b, out_norm_w, out_norm_b;
  // The relative-position embeddings projected once at load: [heads, 2 span, head_size].
  at::Tensor pos_key, pos_query;
};

namespace {

class ConfigReader {
 public:
  explicit ConfigReader(fs::path path) : path_(std::move(path)) {
    std::ifstream in(path_);
    if (!in) throw InputError(path_.string(), 0, "", "a DeBERTa-v2 config.json (the file cannot be read)");
    std::stringstream text;
    text << in.rdbuf();
    try {
      json_ = nlohmann::json::parse(text.str());
    } catch (const nlohmann::json::parse_error& e) {
      throw InputError(path_.string(), 0, "", std::string("valid JSON: ") + e.what());
    }
    if (!json_.is_object()) throw InputError(path_.string(), 0, "", "a JSON object");
  }

  bool has(const char* key) const { return json_.contains(key) && !json_[key].is_null(); }
  const nlohmann::json& at(const char* key) const { return json_[key]; }
  [[noreturn]] void fail(const char* key, const std::string& expected) const {
    throw InputError(path_.string(), 0, key, expected);
  }

  int64_t integer(const char* key, bool required, int64_t fallback, bool positive) const {
    if (!has(key)) {
      if (required) fail(key, fmt::format("{} integer (the key is missing)", positive ? "a positive" : "an"));
      return fallback;
    }
    const nlohmann::json& value = json_[key];
    if (!value.is_number_integer() || (positive && value.get<int64_t>() <= 0))
      fail(key, fmt::format("{} integer, got {}", positive ? "a positive" : "an", value.dump()));
    return value.get<int64_t>();
  }
  bool boolean(const char* key, bool fallback) const {
    if (!has(key)) return fallback;
    if (!json_[key].is_boolean()) fail(key, "true or false, got " + json_[key].dump());
    return json_[key].get<bool>();
  }
  std::string string(const char* key, const std::string& fallback) const {
    if (!has(key)) return fallback;
    if (!json_[key].is_string()) fail(key, "a string, got " + json_[key].dump());
    return json_[key].get<std::string>();
  }

 private:
  fs::path path_;
  nlohmann::json json_;
};

std::string lower_trimmed(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  const auto first = s.find_first_not_of(" \t");
  if (first == std::string::npos) return "";
  return s.substr(first, s.find_last_not_of(" \t") - first + 1);
}

void check_activation(const ConfigReader& reader, const char* key, const std::string& value) {
  if (value != "gelu" && value != "gelu_new" && value != "relu")
    reader.fail(key, "gelu, gelu_new or relu, got '" + value + "'");
}

at::Tensor activation(const at::Tensor& x, const std::string& name) {
  if (name == "gelu") return at::gelu(x);
  if (name == "gelu_new") return at::gelu(x, "tanh");
  return at::relu(x);
}

at::Tensor layer_norm(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias, double eps) {
  return at::layer_norm(x, {x.size(-1)}, weight, bias, eps);
}

// [T, hidden] -> [heads, T, head_size] (transformers' transpose_for_scores with a batch of one).
at::Tensor heads_first(const at::Tensor& x, int64_t heads) {
  return x.view({x.size(0), heads, -1}).permute({1, 0, 2}).contiguous();
}

}  // namespace

DebertaV2Config read_deberta_v2_config(const fs::path& model_dir) {
  const ConfigReader reader(model_dir / "config.json");
  const std::string type = reader.string("model_type", "");
  if (type != "deberta-v2")
    reader.fail("model_type",
                "deberta-v2 (a DeBERTa-v2/v3 sequence classifier such as tasksource/deberta-base-long-nli), got '" +
                    type + "'");
  DebertaV2Config out;
  out.vocab_size = reader.integer("vocab_size", true, 0, true);
  out.hidden_size = reader.integer("hidden_size", true, 0, true);
  out.num_layers = reader.integer("num_hidden_layers", true, 0, true);
  out.num_heads = reader.integer("num_attention_heads", true, 0, true);
  out.intermediate_size = reader.integer("intermediate_size", true, 0, true);
  if (out.hidden_size % out.num_heads != 0)
    reader.fail("num_attention_heads",
                fmt::format("a divisor of hidden_size {}, got {}", out.hidden_size, out.num_heads));
  out.head_size = reader.integer("attention_head_size", false, out.hidden_size / out.num_heads, true);
  out.max_position_embeddings = reader.integer("max_position_embeddings", false, 512, true);
  out.type_vocab_size = reader.integer("type_vocab_size", false, 0, false);
  if (out.type_vocab_size < 0) reader.fail("type_vocab_size", "0 or more");
  out.position_biased_input = reader.boolean("position_biased_input", true);
  out.relative_attention = reader.boolean("relative_attention", false);
  out.max_relative_positions = reader.integer("max_relative_positions", false, -1, false);
  if (out.max_relative_positions < 1) out.max_relative_positions = out.max_position_embeddings;
  out.position_buckets = reader.integer("position_buckets", false, -1, false);
  out.att_span = out.position_buckets > 0 ? out.position_buckets : out.max_relative_positions;
  out.share_att_key = reader.boolean("share_att_key", false);
  if (reader.has("pos_att_type")) {
    std::vector<std::string> kinds;
    const nlohmann::json& value = reader.at("pos_att_type");
    if (value.is_string()) {  // DebertaV2Config splits "p2c|c2p"
      std::stringstream parts(value.get<std::string>());
      for (std::string part; std::getline(parts, part, '|');) kinds.push_back(lower_trimmed(part));
    } else if (value.is_array()) {
      for (const nlohmann::json& kind : value) {
        if (!kind.is_string()) reader.fail("pos_att_type", "a list of c2p / p2c, got " + value.dump());
        kinds.push_back(kind.get<std::string>());
      }
    } else {
      reader.fail("pos_att_type", "a list of c2p / p2c, got " + value.dump());
    }
    for (const std::string& kind : kinds) {
      if (kind == "c2p") {
        out.c2p = true;
      } else if (kind == "p2c") {
        out.p2c = true;
      } else {
        reader.fail("pos_att_type", "c2p and/or p2c (the kinds transformers' DebertaV2 computes), got '" + kind + "'");
      }
    }
  }
  {
    std::stringstream parts(lower_trimmed(reader.string("norm_rel_ebd", "none")));
    for (std::string part; std::getline(parts, part, '|');)
      if (lower_trimmed(part) == "layer_norm") out.norm_rel_embeddings = true;
  }
  if (reader.has("layer_norm_eps")) {
    if (!reader.at("layer_norm_eps").is_number() || reader.at("layer_norm_eps").get<double>() <= 0)
      reader.fail("layer_norm_eps", "a positive number, got " + reader.at("layer_norm_eps").dump());
    out.layer_norm_eps = reader.at("layer_norm_eps").get<double>();
  }
  out.hidden_act = reader.string("hidden_act", "gelu");
  check_activation(reader, "hidden_act", out.hidden_act);
  out.pooler_hidden_act = reader.string("pooler_hidden_act", "gelu");
  check_activation(reader, "pooler_hidden_act", out.pooler_hidden_act);
  if (reader.integer("conv_kernel_size", false, 0, false) > 0)
    reader.fail("conv_kernel_size",
                "0: the local classifier loads DeBERTa-v2/v3 checkpoints without the encoder's convolution layer "
                "(v3 base and large; v2 xlarge and xxlarge have one): use such a checkpoint or an NLI endpoint");
  if (reader.integer("embedding_size", false, out.hidden_size, true) != out.hidden_size)
    reader.fail("embedding_size", fmt::format("hidden_size {} (no embedding projection here)", out.hidden_size));
  if (reader.integer("pooler_hidden_size", false, out.hidden_size, true) != out.hidden_size)
    reader.fail("pooler_hidden_size", fmt::format("hidden_size {}", out.hidden_size));
  const std::string problem = reader.string("problem_type", "");
  if (problem == "regression") reader.fail("problem_type", "a classification head, got regression");
  if (!reader.has("id2label") || !reader.at("id2label").is_object() || reader.at("id2label").size() < 2)
    reader.fail("id2label", "an object naming at least two labels by id (\"0\": \"entailment\", ...)");
  const nlohmann::json& id2label = reader.at("id2label");
  out.labels.resize(id2label.size());
  for (auto it = id2label.begin(); it != id2label.end(); ++it) {
    size_t used = 0;
    int64_t id = -1;
    try {
      id = std::stoll(it.key(), &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != it.key().size() || id < 0 || id >= static_cast<int64_t>(out.labels.size()) || !it.value().is_string() ||
        !out.labels[static_cast<size_t>(id)].empty())
      reader.fail("id2label", fmt::format("ids 0..{} each naming a label once, got \"{}\": {}", out.labels.size() - 1,
                                          it.key(), it.value().dump()));
    out.labels[static_cast<size_t>(id)] = it.value().get<std::string>();
  }
  if (reader.has("num_labels") &&
      reader.integer("num_labels", false, 0, true) != static_cast<int64_t>(out.labels.size()))
    reader.fail("num_labels", fmt::format("{} (the labels id2label names)", out.labels.size()));
  return out;
}

DebertaV2Classifier::DebertaV2Classifier(const fs::path& model_dir, at::Device device)
    : config_(read_deberta_v2_config(model_dir)), device_(device) {
  c10::InferenceMode guard;
  const model::WeightStore store(model_dir);
  const int64_t h = config_.hidden_size, inter = config_.intermediate_size;
  const int64_t all_heads = config_.num_heads * config_.head_size;
  const auto load = [&](const std::string& name, std::vector<int64_t> shape) {
    return store.load(name, shape, at::kFloat, device_);
  };
  const std::string e = "deberta.embeddings.";
  word_ = load(e + "word_embeddings.weight", {config_.vocab_size, h});
  if (config_.position_biased_input)
    position_ = load(e + "position_embeddings.weight", {config_.max_position_embeddings, h});
  if (config_.type_vocab_size > 0) token_type_ = load(e + "token_type_embeddings.weight", {config_.type_vocab_size, h});
  embed_norm_weight_ = load(e + "LayerNorm.weight", {h});
  embed_norm_bias_ = load(e + "LayerNorm.bias", {h});
  if (config_.relative_attention) {
    rel_embeddings_ = load("deberta.encoder.rel_embeddings.weight", {2 * config_.att_span, h});
    if (config_.norm_rel_embeddings)
      rel_embeddings_ = layer_norm(rel_embeddings_, load("deberta.encoder.LayerNorm.weight", {h}),
                                   load("deberta.encoder.LayerNorm.bias", {h}), config_.layer_norm_eps);
  }
  for (int64_t i = 0; i < config_.num_layers; ++i) {
    const std::string p = fmt::format("deberta.encoder.layer.{}.", i);
    Layer layer;
    layer.q_w = load(p + "attention.self.query_proj.weight", {all_heads, h});
    layer.q_b = load(p + "attention.self.query_proj.bias", {all_heads});
    layer.k_w = load(p + "attention.self.key_proj.weight", {all_heads, h});
    layer.k_b = load(p + "attention.self.key_proj.bias", {all_heads});
    layer.v_w = load(p + "attention.self.value_proj.weight", {all_heads, h});
    layer.v_b = load(p + "attention.self.value_proj.bias", {all_heads});
    layer.attn_out_w = load(p + "attention.output.dense.weight", {h, all_heads});
    layer.attn_out_b = load(p + "attention.output.dense.bias", {h});
    layer.attn_norm_w = load(p + "attention.output.LayerNorm.weight", {h});
    layer.attn_norm_b = load(p + "attention.output.LayerNorm.bias", {h});
    layer.inter_w = load(p + "intermediate.dense.weight", {inter, h});
    layer.inter_b = load(p + "intermediate.dense.bias", {inter});
    layer.out_w = load(p + "output.dense.weight", {h, inter});
    layer.out_b = load(p + "output.dense.bias", {h});
    layer.out_norm_w = load(p + "output.LayerNorm.weight", {h});
    layer.out_norm_b = load(p + "output.LayerNorm.bias", {h});
    if (config_.relative_attention) {
      if (config_.c2p) {
        layer.pos_key =
            config_.share_att_key
                ? at::linear(rel_embeddings_, layer.k_w, layer.k_b)
                : at::linear(rel_embeddings_, load(p + "attention.self.pos_key_proj.weight", {all_heads, h}),
                             load(p + "attention.self.pos_key_proj.bias", {all_heads}));
        layer.pos_key = heads_first(layer.pos_key, config_.num_heads);
      }
      if (config_.p2c) {
        layer.pos_query =
            config_.share_att_key
                ? at::linear(rel_embeddings_, layer.q_w, layer.q_b)
                : at::linear(rel_embeddings_, load(p + "attention.self.pos_query_proj.weight", {all_heads, h}),
                             load(p + "attention.self.pos_query_proj.bias", {all_heads}));
        layer.pos_query = heads_first(layer.pos_query, config_.num_heads);
      }
    }
    layers_.push_back(std::move(layer));
  }
  pooler_w_ = load("pooler.dense.weight", {h, h});
  pooler_b_ = load("pooler.dense.bias", {h});
  const int64_t labels = static_cast<int64_t>(config_.labels.size());
  classifier_w_ = load("classifier.weight", {labels, h});
  classifier_b_ = load("classifier.bias", {labels});
}

DebertaV2Classifier::~DebertaV2Classifier() = default;

at::Tensor DebertaV2Classifier::relative_positions(int64_t tokens) const {
  const auto longs = at::TensorOptions().dtype(at::kLong).device(device_);
  const at::Tensor ids = at::arange(tokens, longs);
  at::Tensor rel = ids.unsqueeze(1) - ids.unsqueeze(0);  // q - k
  const int64_t buckets = config_.position_buckets, max_position = config_.max_relative_positions;
  if (buckets > 0 && max_position > 0) {
    // make_log_bucket_position, in transformers' float32 operations.
    const int64_t mid = buckets / 2;
    const at::Tensor sign = at::sign(rel);
    const at::Tensor abs_pos =
        at::where(rel.lt(mid).logical_and(rel.gt(-mid)), at::scalar_tensor(mid - 1, longs), at::abs(rel));
    const at::Tensor denominator =
        at::log(at::scalar_tensor(static_cast<double>(max_position - 1) / static_cast<double>(mid),
                                  at::TensorOptions().dtype(at::kFloat).device(device_)));
    const at::Tensor log_pos = at::ceil(at::log(abs_pos.div(mid)).div(denominator).mul(mid - 1)).add(mid);
    rel = at::where(abs_pos.le(mid), rel.to(log_pos.scalar_type()), log_pos.mul(sign)).to(at::kLong);
  }
  return rel;
}

at::Tensor DebertaV2Classifier::encode(const at::Tensor& ids, const at::Tensor& token_types) const {
  const int64_t tokens = ids.size(0), heads = config_.num_heads;
  at::Tensor x = at::embedding(word_, ids);
  if (config_.position_biased_input)
    x = x + at::embedding(position_, at::arange(tokens, at::TensorOptions().dtype(at::kLong).device(device_)));
  if (config_.type_vocab_size > 0) x = x + at::embedding(token_type_, token_types);
  x = layer_norm(x, embed_norm_weight_, embed_norm_bias_, config_.layer_norm_eps);  // the mask is all ones

  const int64_t span = config_.att_span;
  at::Tensor c2p_index, p2c_index;
  if (config_.relative_attention) {
    const at::Tensor rel = relative_positions(tokens);
    if (config_.c2p) c2p_index = at::clamp(rel + span, 0, span * 2 - 1).unsqueeze(0).expand({heads, tokens, tokens});
    if (config_.p2c) p2c_index = at::clamp(-rel + span, 0, span * 2 - 1).unsqueeze(0).expand({heads, tokens, tokens});
  }
  const int64_t factor = 1 + (config_.c2p ? 1 : 0) + (config_.p2c ? 1 : 0);
  // scaled_size_sqrt: sqrt(float32(head_size) * scale_factor).
  const at::Tensor scale =
      at::sqrt(at::scalar_tensor(static_cast<double>(config_.head_size), at::kFloat).mul(factor)).to(device_);
  for (const Layer& layer : layers_) {
    const at::Tensor q = heads_first(at::linear(x, layer.q_w, layer.q_b), heads);
    const at::Tensor k = heads_first(at::linear(x, layer.k_w, layer.k_b), heads);
    const at::Tensor v = heads_first(at::linear(x, layer.v_w, layer.v_b), heads);
    at::Tensor scores = at::bmm(q, k.transpose(-1, -2).div(scale));
    if (config_.relative_attention) {
      if (config_.c2p)
        scores = scores + at::gather(at::bmm(q, layer.pos_key.transpose(-1, -2)), -1, c2p_index).div(scale);
      if (config_.p2c)
        scores = scores +
                 at::gather(at::bmm(k, layer.pos_query.transpose(-1, -2)), -1, p2c_index).transpose(-1, -2).div(scale);
    }
    const at::Tensor probs = at::softmax(scores, -1);
    const at::Tensor context = at::bmm(probs, v).permute({1, 0, 2}).reshape({tokens, heads * config_.head_size});
    x = layer_norm(at::linear(context, layer.attn_out_w, layer.attn_out_b) + x, layer.attn_norm_w, layer.attn_norm_b,
                   config_.layer_norm_eps);
    const at::Tensor hidden = activation(at::linear(x, layer.inter_w, layer.inter_b), config_.hidden_act);
    x = layer_norm(at::linear(hidden, layer.out_w, layer.out_b) + x, layer.out_norm_w, layer.out_norm_b,
                   config_.layer_norm_eps);
  }
  return x;
}

std::vector<float> DebertaV2Classifier::logits(const std::vector<int32_t>& ids,
                                               const std::vector<int32_t>& token_types) const {
  c10::InferenceMode guard;
  LOOM_CHECK(!ids.empty(), "an empty sequence has no classification");
  LOOM_CHECK(token_types.empty() || token_types.size() == ids.size(), "{} token type ids for {} tokens",
             token_types.size(), ids.size());
  const int64_t tokens = static_cast<int64_t>(ids.size());
  LOOM_CHECK(!config_.position_biased_input || tokens <= config_.max_position_embeddings,
             "{} tokens exceed the classifier's {} absolute positions", tokens, config_.max_position_embeddings);
  at::Tensor id_tensor = at::empty({tokens}, at::kLong), type_tensor = at::zeros({tokens}, at::kLong);
  auto id_a = id_tensor.accessor<int64_t, 1>();
  auto type_a = type_tensor.accessor<int64_t, 1>();
  for (int64_t t = 0; t < tokens; ++t) {
    const int32_t id = ids[static_cast<size_t>(t)];
    LOOM_CHECK(id >= 0 && id < config_.vocab_size, "token id {} outside the classifier's vocabulary of {}", id,
               config_.vocab_size);
    id_a[t] = id;
    if (!token_types.empty() && config_.type_vocab_size > 0) {  // none: the model ignores them, as transformers'
      const int32_t type = token_types[static_cast<size_t>(t)];
      LOOM_CHECK(type >= 0 && type < config_.type_vocab_size,
                 "token type id {} outside the classifier's {} token types", type, config_.type_vocab_size);
      type_a[t] = type;
    }
  }
  const at::Tensor hidden = encode(id_tensor.to(device_), type_tensor.to(device_));
  const at::Tensor pooled =
      activation(at::linear(hidden.select(0, 0), pooler_w_, pooler_b_), config_.pooler_hidden_act);
  const at::Tensor out = at::linear(pooled, classifier_w_, classifier_b_).to(at::kCPU).contiguous();
  return std::vector<float>(out.data_ptr<float>(), out.data_ptr<float>() + out.numel());
}

}  // namespace loom::nli
