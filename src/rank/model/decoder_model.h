// The shared Llama-style decoder all supported architectures run (Llama, Mistral, Qwen2, Qwen3): embeddings,
// num_layers x [RMSNorm, attention with GQA/RoPE/optional qkv bias and q/k norms, RMSNorm, SiLU MLP], final norm,
// lm_head (tied or not). forward() takes a ragged batch: the tokens of several sequences concatenated, linear
// layers run on all rows at once, attention runs per sequence through that sequence's caches.
// Weights are loaded once, converted to the compute dtype on the device. Under tensor parallelism (tp with size > 1)
// each rank holds only its shard (tensor_parallel_layers.h) and forward() returns the same full logits on every rank.
#pragma once

#include "rank/model/model_config.h"
#include "rank/model/rotary_embedding.h"
#include "rank/model/sequence_state.h"
#include "rank/model/tensor_parallel_layers.h"
#include "rank/model/weight_store.h"

#include <ATen/ATen.h>

#include <utility>
#include <vector>

namespace loom::model {

struct DecoderLayerWeights {
  at::Tensor input_norm, post_attention_norm;
  at::Tensor q_proj, k_proj, v_proj, o_proj;
  at::Tensor q_bias, k_bias, v_bias, o_bias;  // undefined when absent
  at::Tensor q_norm, k_norm;                  // Qwen3
  at::Tensor gate_proj, up_proj, down_proj;
  at::Tensor gate_bias, up_bias, down_bias;   // mlp_bias
};

class DecoderModel {
 public:
  DecoderModel(ModelConfig config, const WeightStore& weights, at::ScalarType dtype, at::Device device,
               parallel::Communicator* tp = nullptr);

  const ModelConfig& config() const { return config_; }
  ModelShape shape() const;  // heads and KV heads held by this rank
  const TensorParallelLayout& tensor_parallel() const { return tp_; }
  at::ScalarType dtype() const { return dtype_; }
  at::Device device() const { return device_; }
  int64_t weight_bytes() const { return weight_bytes_; }
  const at::Tensor& o_proj_weight(int64_t layer) const { return layers_.at(layer).o_proj; }

  // token_ids: [N] (any integer dtype, any device), the segments' tokens concatenated. Returns fp32 logits
  // [segments.size(), vocab] of each segment's last token when want_logits, else an undefined tensor.
  at::Tensor forward(const at::Tensor& token_ids, const std::vector<SequenceSegment>& segments, bool want_logits);

 private:
  at::Tensor attention(int64_t layer, const at::Tensor& x, const std::vector<SequenceSegment>& segments,
                       const std::vector<std::pair<at::Tensor, at::Tensor>>& rope);
  void observe_prefill(int64_t layer, SequenceState& state, const at::Tensor& pre_rope_queries,
                       const at::Tensor& queries);

  ModelConfig config_;
  TensorParallelLayout tp_;
  at::ScalarType dtype_;
  at::Device device_;
  RotaryEmbedding rotary_;
  at::Tensor embed_tokens_;
  at::Tensor final_norm_;
  at::Tensor lm_head_;
  std::vector<DecoderLayerWeights> layers_;
  double scale_;
  int64_t weight_bytes_ = 0;
};

}  // namespace loom::model
