// Hooks through which an acceleration method changes attention and the KV cache (implemented in src/rank/accel).
//
// A policy is created per sequence (AttentionPolicyFactory::create) and sees that sequence's prefill and decode:
//   (b) begin_sequence()        — before prefill: the prompt length and model shape; allocate layer/head budgets.
//   (c) make_cache(layer)       — the cache layout of a layer (dense by default; quantized or per-head varlen).
//   (d) prefill_attention()     — may replace dense prefill attention for one chunk (sparse prefill); return an
//                                 undefined tensor to use the cache's dense attention.
//   (a) finish_prefill(layer)   — after the whole prompt is in the cache: compress, with the last
//                                 `observation_window()` queries (post-RoPE) of the prompt, and the layer's
//                                 pre-RoPE query statistics if the method asked for them. Returns the cache to use
//                                 for decoding (the same object, or a new, smaller one).
//   (f) replay_chunks()         — context reconstruction (KVzip): token chunks the engine feeds after the prompt
//                                 over a copy of the prompt caches before finish_prefill (context_replay.h); the
//                                 policy sees each layer's replayed queries and keys in observe_replay().
//   (e) decode_kept_rows(layer) — decode-time compression (kvpress DecodingPress): when decode_compression() has an
//                                 interval, the engine keeps the pre-RoPE queries of recent decode steps and, every
//                                 `interval` steps, asks the policy which rows of each KV head's cache to keep
//                                 (decode_compression.h runs it).
// Under tensor parallelism a policy sees only its rank's heads; PolicyContext::tp is the group communicator for
// methods that need global statistics.
#pragma once

#include "rank/model/kv_cache.h"

#include <ATen/ATen.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace loom::parallel {
class Communicator;
}

namespace loom::model {

struct ModelShape {
  int64_t num_layers = 0;
  int64_t num_heads = 0;     // query heads held by this rank
  int64_t num_kv_heads = 0;  // KV heads held by this rank
  int64_t head_dim = 0;
  int64_t hidden_size = 0;
  double rope_theta = 10000.0;
};

struct PolicyContext {
  ModelShape shape;
  at::ScalarType dtype = at::kFloat;
  at::Device device = at::kCPU;
  loom::parallel::Communicator* tp = nullptr;  // never null under TP; may be null for single-rank runs
  int64_t reserve_tokens = 0;  // capacity hint for caches: prompt length + max_new_tokens (0: unknown)
};

// Inputs of one prefill chunk's attention in one layer. Keys/values cover the whole prefix so far (previous
// chunks and this one), [num_kv_heads, T, head_dim]; queries are this chunk's, [num_heads, t_q, head_dim],
// sitting at positions T - t_q .. T - 1.
struct PrefillAttentionInput {
  int64_t layer = 0;
  at::Tensor queries;
  at::Tensor keys;
  at::Tensor values;
  double scale = 1.0;
};

// What the engine keeps for finish_prefill: the last observation_window() post-RoPE queries of the prompt
// ([num_heads, w, head_dim], w <= window) and, when wants_query_statistics(), the mean and covariance of the
// pre-RoPE queries over the prompt ([num_heads, head_dim] and [num_heads, head_dim, head_dim]).
struct PrefillSummary {
  int64_t layer = 0;
  int64_t prompt_length = 0;
  at::Tensor window_queries;
  at::Tensor query_mean;
  at::Tensor query_covariance;
  // Layer weights some scorers read (CriticalKV uses o_proj; ExpectedAttention needs RoPE): undefined if unused.
  at::Tensor o_proj_weight;  // [hidden_local, num_heads*head_dim] shard held by this rank
  at::Tensor rope_inv_freq;  // [head_dim/2] fp32: the layer's RoPE frequencies for the prompt (key re-rotation)
};

// Decode-time compression settings (kvpress DecodingPress); interval 0: the policy never compresses while decoding.
struct DecodeCompression {
  int64_t interval = 0;        // decode steps between compressions (kvpress compression_interval)
  int64_t target_size = 0;     // tokens a step of at least this many triggers a compression at once (kvpress)
  int64_t buffer_entries = 0;  // decode steps whose queries stay buffered after a step (hidden_states_buffer_size)
  // >= 0: the target follows the tokens seen so far, S = the current position + 1 (kvpress
  // CompressionRatioDecodingPress): max(1, int(S * (1 - target_compression_ratio))) replaces target_size.
  double target_compression_ratio = -1.0;
};

// The target of a compression after the token at `position` (see DecodeCompression).
inline int64_t decode_target_size(const DecodeCompression& spec, int64_t position) {
  if (spec.target_compression_ratio < 0) return spec.target_size;
  const auto seen = static_cast<double>(position + 1);
  const auto target = static_cast<int64_t>(seen * (1.0 - spec.target_compression_ratio));
  return target < 1 ? 1 : target;
}

// What decode_kept_rows sees of one layer: the buffered decode queries, [num_heads, n, head_dim], rotated as
// kvpress rotates the hidden states it buffers (the current step's RoPE; see decode_compression.h).
struct DecodeSummary {
  int64_t layer = 0;
  int64_t target_size = 0;  // tokens to keep (decode_target_size of the policy's DecodeCompression)
  at::Tensor queries;
  at::Tensor o_proj_weight;  // [hidden_local, num_heads*head_dim] shard held by this rank
};

// Context reconstruction (kvpress KVzipPress; context_replay.h runs it). ReplayPrompts: what the model's tokenizer
// and chat template give (kvpress KVzipPress.__call__ / prepare): the chat template's user-turn prefix length, the
// assistant-turn suffix ids, and the ids of the two repeat instructions. ReplayChunk: ids fed after the prompt
// (positions T ..) over the prompt's cache, reconstructing the prompt's positions [start, end).
struct ReplayPrompts {
  int64_t prefix_length = 0;
  std::vector<int32_t> suffix;
  std::vector<int32_t> first;  // "\n\nRepeat the previous context exactly."
  std::vector<int32_t> later;  // "\n\nRepeat the part of the previous context exactly, starting with"
};
struct ReplayChunk {
  std::vector<int32_t> ids;
  int64_t start = 0;
  int64_t end = 0;
};

class AttentionPolicy {
 public:
  virtual ~AttentionPolicy() = default;

  virtual void begin_sequence(int64_t prompt_length) {}
  virtual std::unique_ptr<LayerKVCache> make_cache(int64_t layer);
  virtual at::Tensor prefill_attention(const PrefillAttentionInput& input) { return at::Tensor(); }
  virtual std::unique_ptr<LayerKVCache> finish_prefill(std::unique_ptr<LayerKVCache> cache,
                                                       const PrefillSummary& summary) {
    return cache;
  }

  virtual DecodeCompression decode_compression() const { return {}; }
  // keys/values: the layer's whole cache, [num_kv_heads, T, head_dim], in its stored row order. Returns the rows of
  // each KV head to keep, in the order they are to be stored from now on; an empty vector keeps everything.
  virtual std::vector<at::Tensor> decode_kept_rows(const at::Tensor& keys, const at::Tensor& values,
                                                   const DecodeSummary& summary) {
    return {};
  }

  // Context reconstruction: chunks to replay once the prompt is prefilled (empty: none). For each chunk the engine
  // feeds its ids after the prompt over a copy of the prompt caches and calls observe_replay per full-attention
  // layer with the replayed tokens' post-RoPE queries [num_heads, q, head_dim] and the copy's keys
  // [num_kv_heads, T + q, head_dim]; finish_prefill follows once every chunk is replayed.
  virtual std::vector<ReplayChunk> replay_chunks(const std::vector<int32_t>& prompt_ids,
                                                 const ReplayPrompts& prompts) const {
    return {};
  }
  virtual bool replays_context() const { return false; }
  virtual void observe_replay(int64_t layer, const ReplayChunk& chunk, const at::Tensor& queries,
                              const at::Tensor& keys) {}

  // How many of the prompt's last queries finish_prefill needs (0: none).
  virtual int64_t observation_window() const { return 0; }
  virtual bool wants_query_statistics() const { return false; }
  // Whether dense prefill attention may be replaced (then the engine calls prefill_attention per chunk).
  virtual bool replaces_prefill_attention() const { return false; }
  // Whether finish_prefill keeps the dense prefill cache as it is (the full cache). A shared prefill hands the
  // original caches to such a policy and copies for the others, so at most one extra dense copy exists at a time.
  virtual bool keeps_prefill_cache() const { return false; }
  // Whether decoding continues at the compressed cache's length instead of the prompt's (key re-rotation renumbers
  // the kept tokens 0 .. n-1; kvpress's pipeline then decodes from cache.get_seq_length()). The engine reads the
  // first full-attention layer's logical_length().
  virtual bool renumbers_positions() const { return false; }
  // Fraction of the causal (query block, key block) pairs the prefill attention computed, over every layer and
  // chunk of the sequence so far (1: dense).
  virtual double prefill_block_density() const { return 1.0; }

  const PolicyContext& context() const { return context_; }

 protected:
  explicit AttentionPolicy(PolicyContext context) : context_(std::move(context)) {}
  PolicyContext context_;
};

// The full-cache policy: dense cache, dense attention, no compression.
class FullCachePolicy : public AttentionPolicy {
 public:
  explicit FullCachePolicy(PolicyContext context) : AttentionPolicy(std::move(context)) {}
  bool keeps_prefill_cache() const override { return true; }
};

class AttentionPolicyFactory {
 public:
  virtual ~AttentionPolicyFactory() = default;
  virtual std::unique_ptr<AttentionPolicy> create(const PolicyContext& context) const = 0;
  virtual std::string name() const = 0;
};

}  // namespace loom::model
