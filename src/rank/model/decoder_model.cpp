#include "rank/model/decoder_model.h"

#include "common/error.h"
#include "kernels/attention.h"
#include "kernels/layers.h"
#include "kernels/paged_attention.h"
#include "kernels/rope.h"

#include <cmath>
#include <tuple>

namespace loom::model {

namespace {

struct Loader {
  const WeightStore& store;
  at::ScalarType dtype;
  at::Device device;
  int64_t bytes = 0;

  at::Tensor operator()(const std::string& name, std::vector<int64_t> shape) {
    at::Tensor t = store.load(name, shape, dtype, device);
    bytes += t.numel() * static_cast<int64_t>(t.element_size());
    return t;
  }
  at::Tensor optional(bool present, const std::string& name, std::vector<int64_t> shape) {
    return present ? (*this)(name, std::move(shape)) : at::Tensor();
  }
  // An RMSNorm weight; Gemma's (plus_one) is applied as (1 + w), summed in fp32 as Gemma3RMSNorm does.
  at::Tensor norm(const std::string& name, int64_t size, bool plus_one) {
    if (!plus_one) return (*this)(name, {size});
    at::Tensor t = (store.load(name, {size}, at::kFloat, device) + 1.0).to(dtype);
    bytes += t.numel() * static_cast<int64_t>(t.element_size());
    return t;
  }
  // Rows (dim 0) or columns (dim 1) [start, start + count) of the tensor: this rank's tensor-parallel shard.
  at::Tensor shard(const std::string& name, std::vector<int64_t> shape, int64_t dim, int64_t start, int64_t count) {
    at::Tensor t = load_shard(store, name, shape, dim, start, count, dtype, device);
    bytes += t.numel() * static_cast<int64_t>(t.element_size());
    return t;
  }
};

// GLM's RoPE rotates the adjacent pairs (2j, 2j + 1) of each head's first `rotary` dims; the RoPE tables rotate
// (j, j + dim/2) (rotary_embedding.h). Reordering every head's q and k rows the same way (q.k is unchanged) turns
// one into the other: row 2j moves to j, 2j + 1 to j + dim/2, the unrotated rows fill the rest in order.
// Returns the old row of each new row.
at::Tensor half_rotation_order(int64_t dim, int64_t rotary) {
  std::vector<int64_t> order(static_cast<size_t>(dim));
  const int64_t half = dim / 2, pairs = rotary / 2, rest = (dim - rotary) / 2;
  for (int64_t j = 0; j < pairs; ++j) {
    order[static_cast<size_t>(j)] = 2 * j;
    order[static_cast<size_t>(half + j)] = 2 * j + 1;
  }
  for (int64_t j = 0; j < rest; ++j) {
    order[static_cast<size_t>(pairs + j)] = rotary + j;
    order[static_cast<size_t>(half + pairs + j)] = rotary + rest + j;
  }
  return at::tensor(order, at::TensorOptions().dtype(at::kLong));
}

at::Tensor soft_capped(const at::Tensor& logits, double cap) {
  return cap > 0 ? at::tanh(logits / cap) * cap : logits;
}

// rows: q rows then k rows then v rows (a weight [rows, hidden] or a bias [rows]); q and k reordered per head.
at::Tensor reorder_qk_rows(const at::Tensor& rows, int64_t q_rows, int64_t kv_rows, int64_t dim,
                           const at::Tensor& order) {
  auto per_head = [&](const at::Tensor& t) {
    return t.reshape({t.size(0) / dim, dim, -1}).index_select(1, order.to(t.device())).reshape(t.sizes());
  };
  return at::cat({per_head(rows.narrow(0, 0, q_rows)), per_head(rows.narrow(0, q_rows, kv_rows)),
                  rows.narrow(0, q_rows + kv_rows, kv_rows)});
}

}  // namespace

DecoderModel::DecoderModel(ModelCard config, const WeightStore& weights, at::ScalarType dtype, at::Device device,
                           parallel::Communicator* tp)
    : config_(std::move(config)), tp_(plan_tensor_parallel(config_, tp)), dtype_(dtype), device_(device),
      rotary_(config_, device) {
  const int64_t hidden = config_.hidden_size, inter = config_.intermediate_size;
  const int64_t q_dim = config_.num_heads * config_.head_dim, kv_dim = config_.num_kv_heads * config_.head_dim;
  scale_ = 1.0 / std::sqrt(static_cast<double>(config_.head_dim));
  if (config_.query_pre_attn_scalar > 0) scale_ = std::pow(config_.query_pre_attn_scalar, -0.5);
  if (config_.scaled_embeddings) {  // transformers: sqrt(hidden) as an fp32 tensor, cast to the weights' dtype
    embed_scale_ = at::scalar_tensor(std::sqrt(static_cast<double>(hidden)), at::kFloat).to(dtype).item<double>();
  }
  if (config_.sliding_rope) {
    ModelCard local = config_;
    local.rope = *config_.sliding_rope;
    sliding_rotary_.emplace(local, device);
  }
  Loader load{weights, dtype, device};
  // A multimodal checkpoint's language model (Gemma-3): model.language_model.* (transformers 5.x), or
  // language_model.model.* and language_model.lm_head (4.x).
  std::string prefix = "model.", head = "lm_head.weight";
  if (!weights.contains("model.embed_tokens.weight")) {
    if (weights.contains("model.language_model.embed_tokens.weight")) {
      prefix = "model.language_model.";
    } else if (weights.contains("language_model.model.embed_tokens.weight")) {
      prefix = "language_model.model.";
      head = "language_model.lm_head.weight";
    }
  }
  const bool gemma = config_.gemma_norms;
  const int64_t dim = config_.head_dim;
  const int64_t q_rows = tp_.heads * dim, q_start = tp_.head_start * dim;
  const int64_t kv_rows = tp_.kv_heads * dim, kv_start = tp_.kv_head_start * dim;
  const int64_t inter_cols = tp_.intermediate, inter_start = tp_.intermediate_start;
  const bool bias_owner = tp_.rank == 0;  // row-parallel biases are added once, by group rank 0
  const int64_t vocab = config_.vocab_size;
  embed_tokens_ = load.shard(prefix + "embed_tokens.weight", {vocab, hidden}, 0, tp_.vocab_start, tp_.vocab);
  final_norm_ = load.norm(prefix + "norm.weight", hidden, gemma);
  if (config_.tie_word_embeddings) {
    lm_head_ = embed_tokens_;
  } else {
    lm_head_ = load.shard(head, {vocab, hidden}, 0, tp_.vocab_start, tp_.vocab);
  }
  for (int64_t i = 0; i < config_.num_layers; ++i) {
    const std::string p = fmt::format("{}layers.{}.", prefix, i);
    DecoderLayerWeights w;
    w.input_norm = load.norm(p + "input_layernorm.weight", hidden, gemma);
    // The MLP's input norm (Gemma: pre_feedforward_layernorm; its post_attention_layernorm is the sandwich one).
    w.post_attention_norm =
        load.norm(p + (gemma ? "pre_feedforward_layernorm.weight" : "post_attention_layernorm.weight"), hidden, gemma);
    // q, k and v rows of this rank side by side: one GEMM.
    if (config_.fused_projections) {
      // Phi-3's qkv_proj: q rows, then k rows, then v rows; this rank's rows of each.
      const std::string fused = p + "self_attn.qkv_proj.weight";
      const std::vector<int64_t> shape = {q_dim + 2 * kv_dim, hidden};
      w.qkv_proj = at::cat({load.shard(fused, shape, 0, q_start, q_rows),
                            load.shard(fused, shape, 0, q_dim + kv_start, kv_rows),
                            load.shard(fused, shape, 0, q_dim + kv_dim + kv_start, kv_rows)});
    } else {
      w.qkv_proj = at::cat({load.shard(p + "self_attn.q_proj.weight", {q_dim, hidden}, 0, q_start, q_rows),
                            load.shard(p + "self_attn.k_proj.weight", {kv_dim, hidden}, 0, kv_start, kv_rows),
                            load.shard(p + "self_attn.v_proj.weight", {kv_dim, hidden}, 0, kv_start, kv_rows)});
    }
    if (config_.qkv_bias) {
      w.qkv_bias = at::cat({load.shard(p + "self_attn.q_proj.bias", {q_dim}, 0, q_start, q_rows),
                            load.shard(p + "self_attn.k_proj.bias", {kv_dim}, 0, kv_start, kv_rows),
                            load.shard(p + "self_attn.v_proj.bias", {kv_dim}, 0, kv_start, kv_rows)});
    }
    if (config_.interleaved_rope) {
      const auto rotary = static_cast<int64_t>(static_cast<double>(dim) * config_.rope.partial_rotary_factor);
      const at::Tensor order = half_rotation_order(dim, rotary);
      w.qkv_proj = reorder_qk_rows(w.qkv_proj, q_rows, kv_rows, dim, order);
      if (w.qkv_bias.defined()) w.qkv_bias = reorder_qk_rows(w.qkv_bias, q_rows, kv_rows, dim, order);
    }
    w.o_proj = load.shard(p + "self_attn.o_proj.weight", {hidden, q_dim}, 1, q_start, q_rows);
    w.o_bias = load.optional(config_.o_bias && bias_owner, p + "self_attn.o_proj.bias", {hidden});
    if (config_.qk_norm) {
      w.q_norm = load.norm(p + "self_attn.q_norm.weight", config_.head_dim, gemma);
      w.k_norm = load.norm(p + "self_attn.k_norm.weight", config_.head_dim, gemma);
    }
    if (sparse_layer(config_, i)) {
      w.moe = load_sparse_moe(weights, p + "mlp.", config_, tp_, dtype, device);
      load.bytes += w.moe.bytes();
    } else {
      if (config_.fused_projections || config_.fused_gate_up) {
        // Phi-3's and GLM's gate_up_proj: gate rows, then up rows.
        const std::string fused = p + "mlp.gate_up_proj.weight";
        w.gate_up_proj = at::cat({load.shard(fused, {2 * inter, hidden}, 0, inter_start, inter_cols),
                                  load.shard(fused, {2 * inter, hidden}, 0, inter + inter_start, inter_cols)});
      } else {
        w.gate_up_proj =
            at::cat({load.shard(p + "mlp.gate_proj.weight", {inter, hidden}, 0, inter_start, inter_cols),
                     load.shard(p + "mlp.up_proj.weight", {inter, hidden}, 0, inter_start, inter_cols)});
      }
      if (config_.mlp_bias) {
        w.gate_up_bias = at::cat({load.shard(p + "mlp.gate_proj.bias", {inter}, 0, inter_start, inter_cols),
                                  load.shard(p + "mlp.up_proj.bias", {inter}, 0, inter_start, inter_cols)});
      }
      w.down_proj = load.shard(p + "mlp.down_proj.weight", {hidden, inter}, 1, inter_start, inter_cols);
      w.down_bias = load.optional(config_.mlp_bias && bias_owner, p + "mlp.down_proj.bias", {hidden});
    }
    if (config_.sandwich_norms) {  // GLM-4's names, or Gemma-3's
      w.attn_out_norm =
          load.norm(p + (gemma ? "post_attention_layernorm.weight" : "post_self_attn_layernorm.weight"), hidden, gemma);
      w.mlp_out_norm =
          load.norm(p + (gemma ? "post_feedforward_layernorm.weight" : "post_mlp_layernorm.weight"), hidden, gemma);
    }
    layers_.push_back(std::move(w));
  }
  weight_bytes_ = load.bytes;
}

ModelShape DecoderModel::shape() const {
  ModelShape shape;
  shape.num_layers = config_.num_layers;
  shape.num_heads = tp_.heads;
  shape.num_kv_heads = tp_.kv_heads;
  shape.head_dim = config_.head_dim;
  shape.hidden_size = config_.hidden_size;
  shape.rope_theta = config_.rope.theta;
  return shape;
}

void DecoderModel::observe_prefill(int64_t layer, SequenceState& state, const at::Tensor& pre_rope_queries,
                                   const at::Tensor& queries) {
  AttentionPolicy& policy = *state.policy;
  PrefillObservation& obs = state.observations[layer];
  const int64_t window = policy.observation_window();
  if (window > 0) {
    at::Tensor joined = obs.window_queries.defined() ? at::cat({obs.window_queries, queries}, 1) : queries;
    const int64_t keep = std::min<int64_t>(window, joined.size(1));
    obs.window_queries = joined.narrow(1, joined.size(1) - keep, keep).contiguous();
  }
  if (policy.wants_query_statistics()) {
    at::Tensor q = pre_rope_queries.to(at::kFloat);  // [heads, t, dim]
    at::Tensor sum = q.sum(1);
    at::Tensor outer = at::bmm(q.transpose(1, 2), q);
    obs.query_sum = obs.query_sum.defined() ? obs.query_sum + sum : sum;
    obs.query_outer_sum = obs.query_outer_sum.defined() ? obs.query_outer_sum + outer : outer;
    obs.query_count += q.size(1);
  }
}

at::Tensor DecoderModel::attention(int64_t layer, const at::Tensor& x, const std::vector<SequenceSegment>& segments,
                                   const std::vector<std::pair<at::Tensor, at::Tensor>>& rope) {
  const DecoderLayerWeights& w = layers_[layer];
  const int64_t rows = x.size(0), heads = tp_.heads, kv_heads = tp_.kv_heads;
  const int64_t dim = config_.head_dim;
  at::Tensor qkv = at::linear(x, w.qkv_proj, w.qkv_bias);
  at::Tensor q = qkv.narrow(1, 0, heads * dim).view({rows, heads, dim});
  at::Tensor k = qkv.narrow(1, heads * dim, kv_heads * dim).view({rows, kv_heads, dim});
  at::Tensor v = qkv.narrow(1, (heads + kv_heads) * dim, kv_heads * dim).view({rows, kv_heads, dim});
  if (config_.qk_norm) {
    q = kernels::rms_norm(q, w.q_norm, config_.rms_norm_eps);
    k = kernels::rms_norm(k, w.k_norm, config_.rms_norm_eps);
  }
  at::Tensor out = at::empty({rows, heads * dim}, x.options());
  for (size_t i = 0; i < segments.size(); ++i) {
    const SequenceSegment& seg = segments[i];
    SequenceState& state = *seg.state;
    at::Tensor qs = q.narrow(0, seg.offset, seg.length).transpose(0, 1);  // [heads, t, dim]
    at::Tensor ks = k.narrow(0, seg.offset, seg.length).transpose(0, 1);  // [kv_heads, t, dim]
    at::Tensor vs = v.narrow(0, seg.offset, seg.length).transpose(0, 1);
    const auto& [cos, sin] = rope[i];
    at::Tensor q_rot = kernels::apply_rope(qs, cos, sin);
    at::Tensor k_rot = kernels::apply_rope(ks, cos, sin);
    LayerKVCache& cache = *state.caches[layer];
    cache.append(k_rot, vs);
    at::Tensor attended;
    if (seg.prefill) {
      observe_prefill(layer, state, qs, q_rot);
      if (state.policy->replaces_prefill_attention() && layer_window(config_, layer) == 0) {
        auto [keys, values] = cache.dense();
        attended = state.policy->prefill_attention(PrefillAttentionInput{layer, q_rot, keys, values, scale_});
      }
    }
    if (!attended.defined()) attended = cache.attend(q_rot, scale_);
    out.narrow(0, seg.offset, seg.length).copy_(attended.transpose(0, 1).reshape({seg.length, heads * dim}));
  }
  at::Tensor projected = at::linear(out, w.o_proj, w.o_bias);
  reduce_row_parallel(tp_, projected);
  return projected;
}

bool DecoderModel::mlp_capturable() const {
  for (const DecoderLayerWeights& w : layers_) {
    if (w.moe.defined() && !w.moe.grouped) return false;
  }
  return true;
}

at::Tensor DecoderModel::mlp(int64_t layer, const at::Tensor& x) {
  const DecoderLayerWeights& w = layers_[layer];
  if (w.moe.defined()) {
    at::Tensor out = sparse_moe(x, w.moe);
    reduce_row_parallel(tp_, out);
    return out;
  }
  at::Tensor out = kernels::fused_gated_mlp(x, w.gate_up_proj, w.gate_up_bias, w.down_proj, w.down_bias,
                                            config_.activation == "gelu_pytorch_tanh");
  reduce_row_parallel(tp_, out);
  return out;
}

void DecoderModel::run_layers(at::Tensor& hidden,
                              const std::function<at::Tensor(int64_t, const at::Tensor&)>& attention_of) {
  if (config_.num_layers == 0) return;
  if (!hidden.is_contiguous()) hidden = hidden.contiguous();
  const double eps = config_.rms_norm_eps;
  at::Tensor normed = kernels::rms_norm(hidden, layers_[0].input_norm, eps);
  for (int64_t layer = 0; layer < config_.num_layers; ++layer) {
    const DecoderLayerWeights& w = layers_[layer];
    at::Tensor attended = attention_of(layer, normed);
    if (w.attn_out_norm.defined()) attended = kernels::rms_norm(attended, w.attn_out_norm, eps);
    normed = kernels::add_rms_norm(hidden, attended, w.post_attention_norm, eps);
    at::Tensor out = mlp(layer, normed);
    if (w.mlp_out_norm.defined()) out = kernels::rms_norm(out, w.mlp_out_norm, eps);
    if (layer + 1 < config_.num_layers) {
      normed = kernels::add_rms_norm(hidden, out, layers_[layer + 1].input_norm, eps);
    } else {
      hidden.add_(out);
    }
  }
}

at::Tensor DecoderModel::forward(const at::Tensor& token_ids, const std::vector<SequenceSegment>& segments,
                                 bool want_logits) {
  at::Tensor hidden = prefill_layers(token_ids, segments);
  if (!want_logits) return at::Tensor();
  std::vector<int64_t> last_rows;
  for (const SequenceSegment& seg : segments) last_rows.push_back(seg.offset + seg.length - 1);
  at::Tensor index = at::tensor(last_rows, at::TensorOptions().dtype(at::kLong)).to(device_);
  at::Tensor last = hidden.index_select(0, index);
  return soft_capped(vocab_parallel_logits(tp_, kernels::rms_norm(last, final_norm_, config_.rms_norm_eps), lm_head_,
                                           config_.vocab_size),
                     config_.final_logit_softcapping);
}

at::Tensor DecoderModel::final_hidden_states(const at::Tensor& token_ids,
                                             const std::vector<SequenceSegment>& segments) {
  return kernels::rms_norm(prefill_layers(token_ids, segments), final_norm_, config_.rms_norm_eps);
}

at::Tensor DecoderModel::prefill_layers(const at::Tensor& token_ids, const std::vector<SequenceSegment>& segments) {
  LOOM_CHECK(!segments.empty(), "forward without sequences");
  at::Tensor ids = token_ids.to(device_, at::kLong);
  at::Tensor hidden = vocab_parallel_embedding(tp_, embed_tokens_, ids);  // [rows, hidden]
  if (embed_scale_ != 1.0) hidden = hidden * embed_scale_;
  // cos/sin per segment, shared by all layers (Gemma-3's sliding layers: their own).
  std::vector<std::pair<at::Tensor, at::Tensor>> rope, sliding_rope;
  for (const SequenceSegment& seg : segments) {
    rope.push_back(rotary_.cos_sin(seg.start_position, seg.length, seg.rope_seq_len, dtype_));
    if (sliding_rotary_) {
      sliding_rope.push_back(sliding_rotary_->cos_sin(seg.start_position, seg.length, seg.rope_seq_len, dtype_));
    }
  }
  run_layers(hidden, [&](int64_t layer, const at::Tensor& normed) {
    return attention(layer, normed, segments, uses_sliding_rope(layer) ? sliding_rope : rope);
  });
  return hidden;
}

void DecoderModel::prepare_decode(int64_t max_positions) {
  if (sliding_rotary_ && (!sliding_cos_.defined() || sliding_cos_.size(0) < max_positions)) {
    std::tie(sliding_cos_, sliding_sin_) = sliding_rotary_->step_cos_sin(max_positions, dtype_);
  }
  if (!static_rope() || (rope_cos_.defined() && rope_cos_.size(0) >= max_positions)) return;
  // Row p as a decode step at position p computes it (LongRoPE: short factors below the switch, long from it).
  std::tie(rope_cos_, rope_sin_) = rotary_.step_cos_sin(max_positions, dtype_);
}

std::pair<at::Tensor, at::Tensor> DecoderModel::rope_cos_sin(int64_t start, int64_t count) {
  return rotary_.cos_sin(start, count, start + count, dtype_);
}

std::pair<at::Tensor, at::Tensor> DecoderModel::decode_rope(const DecodeStep& step) {
  if (static_rope()) {
    LOOM_CHECK(rope_cos_.defined(), "prepare_decode() was not called before forward_decode()");
    return {rope_cos_.index_select(0, step.positions).unsqueeze(1),  // [batch, 1, dim]
            rope_sin_.index_select(0, step.positions).unsqueeze(1)};
  }
  // Dynamic NTK: each sequence's frequencies depend on its own length (position + 1), as in transformers.
  at::Tensor positions = step.positions.to(at::kCPU);
  std::vector<at::Tensor> cos, sin;
  for (int64_t b = 0; b < positions.size(0); ++b) {
    const int64_t position = positions[b].item<int64_t>();
    auto [c, s] = rotary_.cos_sin(position, 1, position + 1, dtype_);
    cos.push_back(c);
    sin.push_back(s);
  }
  return {at::cat(cos).unsqueeze(1), at::cat(sin).unsqueeze(1)};
}

at::Tensor DecoderModel::decode_attention(int64_t layer, const at::Tensor& x, const DecodeStep& step,
                                          const at::Tensor& cos, const at::Tensor& sin) {
  const DecoderLayerWeights& w = layers_[layer];
  const int64_t batch = x.size(0), heads = tp_.heads, kv_heads = tp_.kv_heads;
  const int64_t dim = config_.head_dim;
  at::Tensor qkv = at::linear(x, w.qkv_proj, w.qkv_bias);
  at::Tensor q = qkv.narrow(1, 0, heads * dim).view({batch, heads, dim});
  at::Tensor k = qkv.narrow(1, heads * dim, kv_heads * dim).view({batch, kv_heads, dim});
  at::Tensor v = qkv.narrow(1, (heads + kv_heads) * dim, kv_heads * dim).view({batch, kv_heads, dim});
  if (config_.qk_norm) {
    q = kernels::rms_norm(q, w.q_norm, config_.rms_norm_eps);
    k = kernels::rms_norm(k, w.k_norm, config_.rms_norm_eps);
  }
  for (const auto& [entry, state] : step.observed) {  // kvpress DecodingPress buffers each step's attention input
    state->decode_queries.entries.at(static_cast<size_t>(layer)).push_back(q[entry].unsqueeze(1).clone());
  }
  at::Tensor q_rot = kernels::apply_rope(q, cos, sin);  // [batch, heads, dim]
  at::Tensor k_rot = kernels::apply_rope(k, cos, sin);  // [batch, kv_heads, dim]
  at::Tensor attended;
  if (step.store != nullptr) {
    const kernels::PagedLayer paged = step.store->layer(layer);
    kernels::paged_append(paged, k_rot, v, step.slot_of);
    attended = kernels::paged_decode_attention(paged, q_rot, step.slot_of, scale_, step.num_splits);
  } else {
    attended = at::zeros_like(q_rot);
  }
  for (const auto& [entry, state] : step.unpaged) {
    LayerKVCache& cache = *state->caches[layer];
    cache.append(k_rot[entry].unsqueeze(1), v[entry].unsqueeze(1));  // [kv_heads, 1, dim]
    attended[entry].copy_(cache.attend(q_rot[entry].unsqueeze(1), scale_).squeeze(1));
  }
  at::Tensor projected = at::linear(attended.view({batch, heads * dim}), w.o_proj, w.o_bias);
  reduce_row_parallel(tp_, projected);
  return projected;
}

at::Tensor DecoderModel::forward_decode(const DecodeStep& step) {
  at::Tensor hidden = vocab_parallel_embedding(tp_, embed_tokens_, step.token_ids);  // [batch, hidden]
  if (embed_scale_ != 1.0) hidden = hidden * embed_scale_;
  const auto [cos, sin] = decode_rope(step);
  at::Tensor sliding_cos, sliding_sin;  // Gemma-3's sliding layers (static RoPE: prepare_decode's tables)
  if (sliding_rotary_) {
    LOOM_CHECK(sliding_cos_.defined(), "prepare_decode() was not called before forward_decode()");
    sliding_cos = sliding_cos_.index_select(0, step.positions).unsqueeze(1);
    sliding_sin = sliding_sin_.index_select(0, step.positions).unsqueeze(1);
  }
  run_layers(hidden, [&](int64_t layer, const at::Tensor& normed) {
    return uses_sliding_rope(layer) ? decode_attention(layer, normed, step, sliding_cos, sliding_sin)
                                    : decode_attention(layer, normed, step, cos, sin);
  });
  return soft_capped(vocab_parallel_logits(tp_, kernels::rms_norm(hidden, final_norm_, config_.rms_norm_eps),
                                           lm_head_, config_.vocab_size),
                     config_.final_logit_softcapping);
}

}  // namespace loom::model
