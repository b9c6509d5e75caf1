// RoPE frequencies of a model (default, linear, dynamic-NTK, llama3, YaRN), computed with the same fp32 tensor
// operations as transformers' modeling_rope_utils.py so that cos/sin agree bit for bit where possible.
// Dynamic NTK depends on the sequence length of the forward call (transformers recomputes inv_freq when
// max(position)+1 exceeds max_position_embeddings): inv_freq(seq_len) handles that.
// Partial rotary (partial_rotary_factor < 1): inv_freq's entries past the rotary dims are 0, so the table rotates
// pairs (j, j + head_dim/2) for j < rotary/2 only; the decoder reorders q/k rows to that layout (DecoderModel).
#pragma once

#include "model_card/model_card.h"

#include <ATen/ATen.h>

#include <utility>

namespace loom::model {

class RotaryEmbedding {
 public:
  RotaryEmbedding(const ModelCard& config, at::Device device);

  // inv_freq [head_dim/2] fp32 for a forward call covering sequence length seq_len.
  const at::Tensor& inv_freq(int64_t seq_len);
  double attention_scaling() const { return attention_scaling_; }

  // cos/sin [length, head_dim] in dtype for positions start .. start+length-1 of a call seeing seq_len tokens.
  std::pair<at::Tensor, at::Tensor> cos_sin(int64_t start, int64_t length, int64_t seq_len, at::ScalarType dtype);

 private:
  at::Tensor compute(int64_t seq_len) const;

  RopeConfig rope_;
  int64_t head_dim_;
  int64_t max_position_embeddings_;
  at::Device device_;
  double attention_scaling_ = 1.0;
  at::Tensor original_;
  at::Tensor dynamic_;
  int64_t dynamic_seq_len_ = -1;
};

}  // namespace loom::model
