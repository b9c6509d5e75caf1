// A BERT-family text encoder in libtorch (method contriever, docs/rag.md): transformers' BertModel without its pooler.
// Embeddings: word + absolute position + token type (0) embeddings, LayerNorm. Each layer (post-LN): multi-head
// self-attention with the padding masked out (the dtype's minimum added before the softmax), output dense,
// residual, LayerNorm; intermediate dense, GELU, output dense, residual, LayerNorm. Runs in float32.
// Loads <dir>/config.json (model_type bert; hidden_size, num_hidden_layers, num_attention_heads, intermediate_size,
// vocab_size, max_position_embeddings, type_vocab_size, layer_norm_eps, hidden_act gelu | gelu_new | relu) and
// <dir>/model.safetensors (or its index), tensor names with or without the "bert." prefix (BertModel or a
// checkpoint of a model holding one). Errors are InputError naming the file and the key or tensor.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace loom::rag {

struct BertConfig {
  int64_t vocab_size = 0;
  int64_t hidden_size = 0;
  int64_t num_layers = 0;
  int64_t num_heads = 0;
  int64_t intermediate_size = 0;
  int64_t max_positions = 512;
  int64_t type_vocab_size = 2;
  double layer_norm_eps = 1e-12;
  std::string hidden_act = "gelu";
};

// Reads and checks <dir>/config.json.
BertConfig read_bert_config(const std::filesystem::path& model_dir);

class BertEncoder {
 public:
  BertEncoder(const std::filesystem::path& model_dir, at::Device device);
  ~BertEncoder();
  BertEncoder(const BertEncoder&) = delete;
  BertEncoder& operator=(const BertEncoder&) = delete;

  const BertConfig& config() const { return config_; }
  at::Device device() const { return device_; }

  // last_hidden_state [batch, tokens, hidden] (float32, on device()) for token ids [batch, tokens] (int64) and
  // attention mask [batch, tokens] (1 = token, 0 = padding).
  at::Tensor forward(const at::Tensor& ids, const at::Tensor& mask) const;

  enum class Pooling {
    kMean,  // the last hidden states averaged over the sequence's tokens (Contriever; padding excluded)
    kCls,   // the first token's last hidden state (BGE's sentence-transformers Pooling, pooling_mode_cls_token)
  };
  // One vector per sequence. Sequences run in batches of `batch_size`, padded.
  std::vector<std::vector<double>> pooled(const std::vector<std::vector<int32_t>>& sequences, Pooling pooling,
                                          int batch_size) const;

 private:
  struct Layer;
  BertConfig config_;
  at::Device device_;
  at::Tensor word_, position_, token_type_, embed_norm_weight_, embed_norm_bias_;
  std::vector<Layer> layers_;
};

}  // namespace loom::rag
