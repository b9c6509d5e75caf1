// KVzip (kvpress KVzipPress, Kim et al. 2025): query-agnostic eviction by context reconstruction. The engine
// re-reads the prompt through the model (context_replay.h): the prompt after the chat template's prefix, in chunks
// of `chunk_size`, each fed as [repeat instruction (+ the previous chunk's last 8 ids), assistant suffix, chunk]
// after the prompt. Each KV pair of a chunk scores the maximum, over the replayed queries of its KV head's group,
// of the softmax attention restricted to [the first min(n_sink, start) keys, the chunk's keys, the replayed keys]
// (causal among the replayed ones, scale 1/sqrt(head_dim)). The first n_sink positions score max + 1; the prefix
// beyond them keeps 0. Budgets: by default kvpress's global one — int(L * H * T * r) lowest scores over all layers
// and heads fix each layer's count, and each layer then drops its own count of lowest scores across its heads
// (so heads keep different numbers of tokens, stored per head: memory really drops, where kvpress only masks);
// `layerwise` drops int(H * T * r) per layer. Under tensor parallelism the scores of all ranks' heads are
// all-gathered, so every rank takes the unsharded model's selection for its heads.
#pragma once

#include "rank/accel/token_budget.h"
#include "rank/model/attention_policy.h"

#include <memory>
#include <string>
#include <vector>

namespace loom::accel {

struct KVzipSettings {
  std::string name = "kvzip";
  TokenBudget budget;
  bool layerwise = false;
  int64_t n_sink = 4;
  int64_t chunk_size = 2048;
};

class KVzipPolicy final : public model::AttentionPolicy {
 public:
  KVzipPolicy(model::PolicyContext context, KVzipSettings settings)
      : AttentionPolicy(std::move(context)), settings_(std::move(settings)) {}

  void begin_sequence(int64_t prompt_length) override;
  bool replays_context() const override { return ratio() > 0.0; }
  std::vector<model::ReplayChunk> replay_chunks(const std::vector<int32_t>& prompt_ids,
                                                const model::ReplayPrompts& prompts) const override;
  void observe_replay(int64_t layer, const model::ReplayChunk& chunk, const at::Tensor& queries,
                      const at::Tensor& keys) override;
  std::unique_ptr<model::LayerKVCache> finish_prefill(std::unique_ptr<model::LayerKVCache> cache,
                                                      const model::PrefillSummary& summary) override;

 private:
  double ratio() const;  // the compression ratio for this prompt (max_capacity_prompt: its equivalent)
  void select();         // kept_ from scores_, once every chunk is replayed

  KVzipSettings settings_;
  int64_t prompt_length_ = 0;
  at::Tensor scores_;                          // [layers, kv_heads (this rank), T] fp32
  std::vector<std::vector<at::Tensor>> kept_;  // [layer][kv_head]: sorted positions
};

// kvpress KVzipPress score for one replayed chunk in one layer: queries [num_heads, q, d] (post-RoPE), keys
// [num_kv_heads, T + q, d] (the prompt's and the replayed tokens'), the chunk covering prompt positions
// [start, end). Returns [num_kv_heads, end - start] fp32.
at::Tensor kvzip_chunk_scores(const at::Tensor& queries, const at::Tensor& keys, int64_t start, int64_t end,
                              int64_t n_sink);

// kvpress KVzipPress.compress_post over scores [layers, kv_heads, T] (sinks already raised): the positions each
// (layer, head) keeps, sorted.
std::vector<std::vector<at::Tensor>> kvzip_kept(const at::Tensor& scores, double compression_ratio, bool layerwise);

class KVzipPolicyFactory final : public model::AttentionPolicyFactory {
 public:
  explicit KVzipPolicyFactory(KVzipSettings settings) : settings_(std::move(settings)) {}
  std::unique_ptr<model::AttentionPolicy> create(const model::PolicyContext& context) const override {
    return std::make_unique<KVzipPolicy>(context, settings_);
  }
  std::string name() const override { return settings_.name; }

 private:
  KVzipSettings settings_;
};

}  // namespace loom::accel
