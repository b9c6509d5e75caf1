// A DeBERTa-v2/v3 sequence classifier in libtorch (judge.nli naming a local model, docs/judge.md): transformers'
// DebertaV2ForSequenceClassification (modeling_deberta_v2.py), the architecture of L-CiteEval's NLI model
// tasksource/deberta-base-long-nli. Runs in float32, one sequence at a time without padding (upstream's
// text-classification pipeline runs its inputs one by one).
//  embeddings  word (+ absolute position when position_biased_input) (+ token type when type_vocab_size > 0),
//              LayerNorm.
//  layers      post-LN; disentangled self-attention: content->content q·k plus, with relative_attention,
//              content->position (c2p: q against the keys of the relative-position embeddings, gathered at
//              clamp(δ + span)) and position->content (p2c: k against their queries, gathered at clamp(−δ + span),
//              transposed), all divided by sqrt(head_size × (1 + #pos_att_type)). δ = i − j, or its log bucket when
//              position_buckets > 0 (make_log_bucket_position, float32 as transformers computes it). The
//              relative-position embeddings go through the encoder's LayerNorm when norm_rel_ebd has layer_norm;
//              share_att_key projects them with the layer's query_proj/key_proj, else with pos_query_proj /
//              pos_key_proj. Then output dense, residual, LayerNorm; intermediate dense, activation, dense, residual,
//              LayerNorm.
//  head        ContextPooler (the first token's state, dense, pooler_hidden_act) and the classifier dense.
// Loads <dir>/config.json (model_type deberta-v2) and <dir>/model.safetensors (or its index), tensors named as
// save_pretrained writes them ("deberta.", "pooler.", "classifier."). Unsupported configurations (conv_kernel_size
// > 0, embedding_size ≠ hidden_size, pooler_hidden_size ≠ hidden_size, a pos_att_type other than c2p/p2c, an
// activation other than gelu/gelu_new/relu, a single-label regression head) and missing or misshapen tensors are
// InputError naming the file and the key or tensor.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace loom::nli {

struct DebertaV2Config {
  int64_t vocab_size = 0;
  int64_t hidden_size = 0;
  int64_t num_layers = 0;
  int64_t num_heads = 0;
  int64_t head_size = 0;  // attention_head_size, default hidden_size / num_attention_heads
  int64_t intermediate_size = 0;
  int64_t max_position_embeddings = 512;
  int64_t type_vocab_size = 0;
  bool position_biased_input = true;
  bool relative_attention = false;
  int64_t max_relative_positions = 0;  // resolved: max_position_embeddings when the key is < 1
  int64_t position_buckets = -1;
  int64_t att_span = 0;  // position_buckets when > 0, else max_relative_positions
  bool share_att_key = false;
  bool c2p = false, p2c = false;
  bool norm_rel_embeddings = false;  // norm_rel_ebd contains layer_norm
  double layer_norm_eps = 1e-7;
  std::string hidden_act = "gelu";
  std::string pooler_hidden_act = "gelu";
  std::vector<std::string> labels;  // id2label, by id (num_labels entries)
};

// Reads and checks <dir>/config.json.
DebertaV2Config read_deberta_v2_config(const std::filesystem::path& model_dir);

class DebertaV2Classifier {
 public:
  DebertaV2Classifier(const std::filesystem::path& model_dir, at::Device device);
  ~DebertaV2Classifier();
  DebertaV2Classifier(const DebertaV2Classifier&) = delete;
  DebertaV2Classifier& operator=(const DebertaV2Classifier&) = delete;

  const DebertaV2Config& config() const { return config_; }

  // The classifier's logits (num_labels, float32) for one sequence of token ids and their token type ids (same
  // length, or empty: all 0). Throws loom::Error for an id outside the vocabulary or a type id outside
  // type_vocab_size, and for a sequence longer than max_position_embeddings when position_biased_input.
  std::vector<float> logits(const std::vector<int32_t>& ids, const std::vector<int32_t>& token_types) const;

 private:
  struct Layer;
  at::Tensor encode(const at::Tensor& ids, const at::Tensor& token_types) const;  // [1, T, hidden]
  at::Tensor relative_positions(int64_t tokens) const;                            // [T, T] long

  DebertaV2Config config_;
  at::Device device_;
  at::Tensor word_, position_, token_type_, embed_norm_weight_, embed_norm_bias_;
  at::Tensor rel_embeddings_;  // [2 span, hidden], after the encoder's LayerNorm when norm_rel_embeddings
  std::vector<Layer> layers_;
  at::Tensor pooler_w_, pooler_b_, classifier_w_, classifier_b_;
};

}  // namespace loom::nli
