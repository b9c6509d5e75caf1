#include "rag/bert_encoder.h"

#include "common/error.h"
#include "rank/model/weight_store.h"

#include <c10/core/InferenceMode.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <sstream>

namespace loom::rag {

namespace fs = std::filesystem;

struct BertEncoder::Layer {
  at::Tensor q_w, q_b, k_w, k_b, v_w, v_b, attn_out_w, attn_out_b, attn_norm_w, attn_norm_b;
  at::Tensor inter_w, inter_b, out_w, out_b, out_norm_w, out_norm_b;
};

namespace {

nlohmann::json read_config_json(const fs::path& path) {
  std::ifstream in(path);
  if (!in) throw InputError(path.string(), 0, "", "a BERT config.json (the file cannot be read)");
  std::stringstream text;
  text << in.rdbuf();
  try {
    return nlohmann::json::parse(text.str());
  } catch (const nlohmann::json::parse_error& e) {
    throw InputError(path.string(), 0, "", std::string("valid JSON: ") + e.what());
  }
}

int64_t positive(const nlohmann::json& config, const fs::path& path, const char* key, bool required,
                 int64_t fallback) {
  if (!config.contains(key) || config[key].is_null()) {
    if (required) throw InputError(path.string(), 0, key, "a positive integer (the key is missing)");
    return fallback;
  }
  const nlohmann::json& value = config[key];
  if (!value.is_number_integer() || value.get<int64_t>() <= 0)
    throw InputError(path.string(), 0, key, "a positive integer, got " + value.dump());
  return value.get<int64_t>();
}

at::Tensor layer_norm(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias, double eps) {
  return at::layer_norm(x, {x.size(-1)}, weight, bias, eps);
}

}  // namespace

BertConfig read_bert_config(const fs::path& model_dir) {
  const fs::path path = model_dir / "config.json";
  const nlohmann::json config = read_config_json(path);
  if (!config.is_object()) throw InputError(path.string(), 0, "", "a JSON object");
  const std::string type = config.value("model_type", std::string());
  if (type != "bert")
    throw InputError(path.string(), 0, "model_type",
                     "bert (a BERT encoder such as facebook/contriever or BAAI/bge-small-en-v1.5), got '" + type + "'");
  BertConfig out;
  out.vocab_size = positive(config, path, "vocab_size", true, 0);
  out.hidden_size = positive(config, path, "hidden_size", true, 0);
  out.num_layers = positive(config, path, "num_hidden_layers", true, 0);
  out.num_heads = positive(config, path, "num_attention_heads", true, 0);
  out.intermediate_size = positive(config, path, "intermediate_size", true, 0);
  out.max_positions = positive(config, path, "max_position_embeddings", false, 512);
  out.type_vocab_size = positive(config, path, "type_vocab_size", false, 2);
  if (out.hidden_size % out.num_heads != 0)
    throw InputError(path.string(), 0, "num_attention_heads",
                     fmt::format("a divisor of hidden_size {}, got {}", out.hidden_size, out.num_heads));
  if (config.contains("layer_norm_eps")) {
    if (!config["layer_norm_eps"].is_number() || config["layer_norm_eps"].get<double>() <= 0)
      throw InputError(path.string(), 0, "layer_norm_eps", "a positive number, got " + config["layer_norm_eps"].dump());
    out.layer_norm_eps = config["layer_norm_eps"].get<double>();
  }
  if (config.contains("hidden_act")) {
    out.hidden_act = config["hidden_act"].is_string() ? config["hidden_act"].get<std::string>() : std::string();
    if (out.hidden_act != "gelu" && out.hidden_act != "gelu_new" && out.hidden_act != "relu")
      throw InputError(path.string(), 0, "hidden_act", "gelu, gelu_new or relu, got " + config["hidden_act"].dump());
  }
  if (config.contains("position_embedding_type") && config["position_embedding_type"] != "absolute")
    throw InputError(path.string(), 0, "position_embedding_type",
                     "absolute, got " + config["position_embedding_type"].dump());
  return out;
}

BertEncoder::BertEncoder(const fs::path& model_dir, at::Device device)
    : config_(read_bert_config(model_dir)), device_(device) {
  const model::WeightStore store(model_dir);
  const std::string prefix = !store.contains("embeddings.word_embeddings.weight") &&
                                     store.contains("bert.embeddings.word_embeddings.weight")
                                 ? "bert."
                                 : "";
  const int64_t h = config_.hidden_size, inter = config_.intermediate_size;
  const auto load = [&](const std::string& name, std::vector<int64_t> shape) {
    return store.load(prefix + name, shape, at::kFloat, device_);
  };
  word_ = load("embeddings.word_embeddings.weight", {config_.vocab_size, h});
  position_ = load("embeddings.position_embeddings.weight", {config_.max_positions, h});
  token_type_ = load("embeddings.token_type_embeddings.weight", {config_.type_vocab_size, h});
  embed_norm_weight_ = load("embeddings.LayerNorm.weight", {h});
  embed_norm_bias_ = load("embeddings.LayerNorm.bias", {h});
  for (int64_t i = 0; i < config_.num_layers; ++i) {
    const std::string p = fmt::format("encoder.layer.{}.", i);
    Layer layer;
    layer.q_w = load(p + "attention.self.query.weight", {h, h});
    layer.q_b = load(p + "attention.self.query.bias", {h});
    layer.k_w = load(p + "attention.self.key.weight", {h, h});
    layer.k_b = load(p + "attention.self.key.bias", {h});
    layer.v_w = load(p + "attention.self.value.weight", {h, h});
    layer.v_b = load(p + "attention.self.value.bias", {h});
    layer.attn_out_w = load(p + "attention.output.dense.weight", {h, h});
    layer.attn_out_b = load(p + "attention.output.dense.bias", {h});
    layer.attn_norm_w = load(p + "attention.output.LayerNorm.weight", {h});
    layer.attn_norm_b = load(p + "attention.output.LayerNorm.bias", {h});
    layer.inter_w = load(p + "intermediate.dense.weight", {inter, h});
    layer.inter_b = load(p + "intermediate.dense.bias", {inter});
    layer.out_w = load(p + "output.dense.weight", {h, inter});
    layer.out_b = load(p + "output.dense.bias", {h});
    layer.out_norm_w = load(p + "output.LayerNorm.weight", {h});
    layer.out_norm_b = load(p + "output.LayerNorm.bias", {h});
    layers_.push_back(std::move(layer));
  }
}

BertEncoder::~BertEncoder() = default;

at::Tensor BertEncoder::forward(const at::Tensor& ids, const at::Tensor& mask) const {
  const int64_t batch = ids.size(0), tokens = ids.size(1), heads = config_.num_heads;
  const int64_t head_dim = config_.hidden_size / heads;
  LOOM_CHECK(tokens <= config_.max_positions, "{} tokens exceed the encoder's {} positions", tokens,
             config_.max_positions);
  const at::Tensor positions = at::arange(tokens, at::TensorOptions().dtype(at::kLong).device(device_));
  at::Tensor x = at::embedding(word_, ids) + at::embedding(position_, positions).unsqueeze(0) + token_type_[0];
  x = layer_norm(x, embed_norm_weight_, embed_norm_bias_, config_.layer_norm_eps);
  // transformers' extended attention mask: 0 for tokens, the dtype's minimum for padding.
  const at::Tensor bias =
      (1.0 - mask.to(at::kFloat)).mul(std::numeric_limits<float>::lowest()).view({batch, 1, 1, tokens});
  const double scale = 1.0 / std::sqrt(static_cast<double>(head_dim));
  const auto split = [&](const at::Tensor& t) { return t.view({batch, tokens, heads, head_dim}).transpose(1, 2); };
  for (const Layer& layer : layers_) {
    const at::Tensor q = split(at::linear(x, layer.q_w, layer.q_b));
    const at::Tensor k = split(at::linear(x, layer.k_w, layer.k_b));
    const at::Tensor v = split(at::linear(x, layer.v_w, layer.v_b));
    const at::Tensor probs = at::softmax(at::matmul(q, k.transpose(-1, -2)).mul(scale) + bias, -1);
    const at::Tensor context = at::matmul(probs, v).transpose(1, 2).reshape({batch, tokens, config_.hidden_size});
    x = layer_norm(at::linear(context, layer.attn_out_w, layer.attn_out_b) + x, layer.attn_norm_w,
                   layer.attn_norm_b, config_.layer_norm_eps);
    at::Tensor hidden = at::linear(x, layer.inter_w, layer.inter_b);
    if (config_.hidden_act == "gelu") {
      hidden = at::gelu(hidden);
    } else if (config_.hidden_act == "gelu_new") {
      hidden = at::gelu(hidden, "tanh");
    } else {
      hidden = at::relu(hidden);
    }
    x = layer_norm(at::linear(hidden, layer.out_w, layer.out_b) + x, layer.out_norm_w, layer.out_norm_b,
                   config_.layer_norm_eps);
  }
  return x;
}

std::vector<std::vector<double>> BertEncoder::pooled(const std::vector<std::vector<int32_t>>& sequences,
                                                     Pooling pooling, int batch_size) const {
  c10::InferenceMode guard;
  std::vector<std::vector<double>> out;
  out.reserve(sequences.size());
  const size_t step = static_cast<size_t>(std::max(batch_size, 1));
  for (size_t begin = 0; begin < sequences.size(); begin += step) {
    const size_t end = std::min(sequences.size(), begin + step);
    size_t longest = 1;
    for (size_t i = begin; i < end; ++i) longest = std::max(longest, sequences[i].size());
    at::Tensor ids = at::zeros({static_cast<int64_t>(end - begin), static_cast<int64_t>(longest)}, at::kLong);
    at::Tensor mask = at::zeros_like(ids);
    auto ids_a = ids.accessor<int64_t, 2>();
    auto mask_a = mask.accessor<int64_t, 2>();
    for (size_t i = begin; i < end; ++i) {
      for (size_t t = 0; t < sequences[i].size(); ++t) {
        const int32_t id = sequences[i][t];
        LOOM_CHECK(id >= 0 && id < config_.vocab_size, "token id {} outside the encoder's vocabulary of {}", id,
                   config_.vocab_size);
        ids_a[static_cast<int64_t>(i - begin)][static_cast<int64_t>(t)] = id;
        mask_a[static_cast<int64_t>(i - begin)][static_cast<int64_t>(t)] = 1;
      }
    }
    ids = ids.to(device_);
    mask = mask.to(device_);
    const at::Tensor hidden = forward(ids, mask);
    const at::Tensor weights = mask.to(at::kFloat).unsqueeze(-1);
    const at::Tensor pooled = (pooling == Pooling::kCls ? hidden.select(1, 0)
                                                        : (hidden * weights).sum(1).div(weights.sum(1).clamp_min(1.0)))
                                  .to(at::kDouble)
                                  .to(at::kCPU)
                                  .contiguous();
    const auto pooled_a = pooled.accessor<double, 2>();
    for (int64_t i = 0; i < pooled.size(0); ++i) {
      std::vector<double> vector(static_cast<size_t>(pooled.size(1)));
      for (int64_t j = 0; j < pooled.size(1); ++j) vector[static_cast<size_t>(j)] = pooled_a[i][j];
      out.push_back(std::move(vector));
    }
  }
  return out;
}

}  // namespace loom::rag
