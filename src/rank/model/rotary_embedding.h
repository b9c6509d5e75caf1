// RoPE frequencies of a model (default, linear, dynamic-NTK, llama3, YaRN, LongRoPE), computed with the same fp32
// tensor operations as transformers' modeling_rope_utils.py so that cos/sin agree bit for bit where possible.
// Dynamic NTK depends on the sequence length of the forward call (transformers recomputes inv_freq when
// max(position)+1 exceeds max_position_embeddings): inv_freq(seq_len) handles that. So does LongRoPE (Phi-3-128k,
// Phi-3.5): a call covering more than original_max_position_embeddings tokens uses the long factors, a shorter one
// the short factors (transformers' longrope_frequency_update, seq_len = max(position)+1 of the call); one attention
// factor scales cos/sin of both.
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

  // cos/sin [count, head_dim] for positions 0 .. count-1, row p as a one-token decode step at position p computes it
  // (seq_len p + 1): the decode table. LongRoPE: short-factor rows below original_max_position_embeddings, long-factor
  // rows from there. Not for dynamic NTK (its rows depend on more than the position).
  std::pair<at::Tensor, at::Tensor> step_cos_sin(int64_t count, at::ScalarType dtype);

 private:
  at::Tensor compute(int64_t seq_len) const;

  RopeConfig rope_;
  int64_t head_dim_;
  int64_t max_position_embeddings_;
  at::Device device_;
  double attention_scaling_ = 1.0;
  at::Tensor original_;  // LongRoPE: the short factors' inv_freq
  at::Tensor long_;      // LongRoPE: the long factors' inv_freq
  at::Tensor dynamic_;
  int64_t dynamic_seq_len_ = -1;
};

}  // namespace loom::model
