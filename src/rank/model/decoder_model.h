// The shared Llama-style decoder all supported architectures run (Llama, Mistral, Qwen2, Qwen3, Qwen3-MoE, Phi-3,
// GLM, Gemma-3): embeddings, num_layers x [RMSNorm, attention with GQA/RoPE/optional qkv bias and q/k norms,
// RMSNorm, SiLU MLP], final norm, lm_head (tied or not). q/k/v and gate/up are each held as one fused matrix (one
// GEMM instead of three / two), loaded from separate tensors or from Phi-3's / GLM's fused ones. GLM: partial
// interleaved RoPE (q/k rows reordered at load, see half_rotation_order) and, for GLM-4, norms of the attention
// and MLP outputs.
// Gemma-3: (1 + w) norms, norms on the attention / MLP outputs, scaled embeddings, query_pre_attn_scalar, gelu-tanh
// MLP, final logit soft-capping, a second RoPE for the sliding layers; multimodal checkpoints' language_model
// weight prefixes.
// Qwen3-MoE: the layers ModelCard::sparse_layers marks run a mixture-of-experts block (sparse_moe.h) in place of the
// dense MLP; its grouped-GEMM path (CUDA, bf16, compute capability 9.x/10.x) keeps a decode step free of host reads.
// Three entry points:
//   forward():        a ragged batch of segments (prefill chunks) through each segment's own caches and policy
//                     hooks; logits of each segment's last token.
//   forward_decode(): one new token per batch entry: paged entries (DecodeStep::slot_of >= 0) append to and attend
//                     over the PagedKVStore with one kernel per layer; `unpaged` entries (quantized or pruned
//                     caches) through their own caches. Reads nothing back to the host when every entry is paged,
//                     the RoPE is static and mlp_capturable(), so a whole step can be captured in a CUDA graph
//                     (decode_graphs.h).
//   final_hidden_states(): forward's prefill, returning every row's hidden state after the final norm (embeddings).
// Weights are loaded once, converted to the compute dtype on the device. Under tensor parallelism (tp with size > 1)
// each rank holds only its shard (tensor_parallel_layers.h) and both entry points return the same full logits on
// every rank.
#pragma once

#include "model_card/model_card.h"
#include "rank/model/paged_kv_store.h"
#include "rank/model/rotary_embedding.h"
#include "rank/model/sequence_state.h"
#include "rank/model/sparse_moe.h"
#include "rank/model/tensor_parallel_layers.h"
#include "rank/model/weight_store.h"

#include <ATen/ATen.h>

#include <functional>
#include <optional>
#include <utility>
#include <vector>

namespace loom::model {

struct DecoderLayerWeights {
  at::Tensor input_norm, post_attention_norm;
  at::Tensor qkv_proj, qkv_bias;          // [(heads + 2 kv_heads) * head_dim, hidden] of this rank; bias optional
  at::Tensor o_proj, o_bias;              // o_bias undefined when absent
  at::Tensor q_norm, k_norm;              // Qwen3
  at::Tensor gate_up_proj, gate_up_bias;  // [2 * intermediate, hidden]: gate rows, then up rows
  at::Tensor down_proj, down_bias;
  SparseMoeWeights moe;                    // Qwen3-MoE's sparse layers (then gate_up_proj / down_proj are undefined)
  at::Tensor attn_out_norm, mlp_out_norm;  // GLM-4, Gemma-3: norms of the attention / MLP outputs, else undefined
};

// One batched decode step: entry b feeds token_ids[b] at RoPE position positions[b].
struct DecodeStep {
  at::Tensor token_ids;  // int64 [batch], on the model's device
  at::Tensor positions;  // int64 [batch], on the model's device
  at::Tensor slot_of;    // int32 [batch], on the model's device: the entry's PagedKVStore slot, -1 when not paged
  const PagedKVStore* store = nullptr;  // null when no entry is paged
  int64_t num_splits = 1;               // kernels::decode_splits for this batch size
  std::vector<std::pair<int64_t, SequenceState*>> unpaged;  // (entry, state) decoding through their own caches
  // (entry, state) whose pre-RoPE queries each layer appends to state->decode_queries (decode-time compression).
  std::vector<std::pair<int64_t, SequenceState*>> observed;
};

class DecoderModel {
 public:
  DecoderModel(ModelCard config, const WeightStore& weights, at::ScalarType dtype, at::Device device,
               parallel::Communicator* tp = nullptr);

  const ModelCard& config() const { return config_; }
  ModelShape shape() const;  // heads and KV heads held by this rank
  const TensorParallelLayout& tensor_parallel() const { return tp_; }
  at::ScalarType dtype() const { return dtype_; }
  at::Device device() const { return device_; }
  int64_t weight_bytes() const { return weight_bytes_; }
  at::Tensor o_proj_weight(int64_t layer) const { return layers_.at(layer).o_proj; }

  // token_ids: [N] (any integer dtype, any device), the segments' tokens concatenated. Returns fp32 logits
  // [segments.size(), vocab] of each segment's last token when want_logits, else an undefined tensor.
  at::Tensor forward(const at::Tensor& token_ids, const std::vector<SequenceSegment>& segments, bool want_logits);

  // The final hidden states (after the final norm, before lm_head) of every row of token_ids, [N, hidden] in the
  // compute dtype; segments as forward's (their caches are filled). Under tensor parallelism every rank returns
  // the same full states (the row-parallel outputs are all-reduced).
  at::Tensor final_hidden_states(const at::Tensor& token_ids, const std::vector<SequenceSegment>& segments);

  // fp32 logits [batch, vocab].
  at::Tensor forward_decode(const DecodeStep& step);

  // Whether the RoPE of a decode step depends only on positions (not dynamic NTK; LongRoPE does: a step at position
  // p switches to the long factors from p + 1 > original_max_position_embeddings on), so forward_decode needs no host
  // work; prepare_decode(max_positions) builds the cos/sin table it then reads (call before graph capture).
  bool static_rope() const { return config_.rope.type != "dynamic"; }
  // Whether forward_decode's MLPs read nothing back to the host: no sparse layer, or every sparse layer runs the
  // grouped experts (sparse_moe.h; the per-expert path reads its token counts).
  bool mlp_capturable() const;
  void prepare_decode(int64_t max_positions);
  // cos/sin [count, head_dim] of positions start .. start + count - 1 for the full-attention layers (dynamic RoPE
  // and LongRoPE: as one call ending at start + count - 1 computes them).
  std::pair<at::Tensor, at::Tensor> rope_cos_sin(int64_t start, int64_t count);
  // inv_freq [head_dim/2] fp32 of the full-attention layers for a call covering seq_len tokens.
  const at::Tensor& rope_inv_freq(int64_t seq_len) { return rotary_.inv_freq(seq_len); }

 private:
  at::Tensor attention(int64_t layer, const at::Tensor& x, const std::vector<SequenceSegment>& segments,
                       const std::vector<std::pair<at::Tensor, at::Tensor>>& rope);
  at::Tensor decode_attention(int64_t layer, const at::Tensor& x, const DecodeStep& step, const at::Tensor& cos,
                              const at::Tensor& sin);
  at::Tensor mlp(int64_t layer, const at::Tensor& x);
  // Embeddings and every layer of a ragged prefill batch: the hidden states before the final norm, [N, hidden].
  at::Tensor prefill_layers(const at::Tensor& token_ids, const std::vector<SequenceSegment>& segments);
  // Every layer over hidden (updated in place): attention_of(layer, normed input) then the MLP, each residual add
  // fused with the next norm (kernels::add_rms_norm). Leaves hidden before the final norm.
  void run_layers(at::Tensor& hidden, const std::function<at::Tensor(int64_t, const at::Tensor&)>& attention_of);
  std::pair<at::Tensor, at::Tensor> decode_rope(const DecodeStep& step);
  void observe_prefill(int64_t layer, SequenceState& state, const at::Tensor& pre_rope_queries,
                       const at::Tensor& queries);
  bool uses_sliding_rope(int64_t layer) const { return sliding_rotary_ && layer_window(config_, layer) > 0; }

  ModelCard config_;
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
  at::Tensor rope_cos_, rope_sin_;  // [max_positions, head_dim] for decode (static RoPE)
  std::optional<RotaryEmbedding> sliding_rotary_;  // Gemma-3: the sliding layers' RoPE (rope_local_base_freq)
  at::Tensor sliding_cos_, sliding_sin_;            // its decode tables
  double embed_scale_ = 1.0;                        // Gemma-3: sqrt(hidden_size) in the compute dtype
};

}  // namespace loom::model
