// Token-eviction policies: one policy over shared ops for StreamingLLM, SnapKV, H2O, Knorm/L2Compress, TOVA,
// ObservedAttention, KeyDiff, ExpectedAttention, PyramidKV, AdaKV, CaM, block-wise KeyDiff, ChunkKV,
// CriticalKV (critical_scores.h: the scorer's scores re-weighted by |V W_o| before the uniform top-k),
// CriticalAdaKV (the same two stages inside AdaKV's head budgets), Finch, Q-filters and key re-rotation (kvpress KeyRerotationPress:
// the kept keys re-rotated to positions 0 .. n-1, decoding from n).
//
// At finish_prefill (after the whole prompt, so chunked prefill changes nothing) the layer's dense prompt cache is
// scored (token_scorers.h), each KV head's kept positions are chosen (uniform top-k, PyramidKV's layer schedule or
// AdaKV's head-adaptive budgets; CaM first merges values), and a PerHeadVarlenCache holding only those tokens
// replaces the dense cache, so kv_bytes really drops. Layers in skip_layers, and prompts no longer than the budget
// or the observation window, stay dense. Kept tokens keep their original RoPE; decoding continues at the
// uncompressed positions (as kvpress), except under key re-rotation. Policies are per sequence, so batches need
// nothing special.
#pragma once

#include "rank/accel/token_budget.h"
#include "rank/accel/token_scorers.h"
#include "rank/model/attention_policy.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace loom::accel {

// kBlock: BlockPress block-wise re-scoring; kChunk: ChunkKV whole-chunk selection (block_selection.h);
// kPerChunk: FinchPress's chunk_length: each chunk of chunk_length positions keeps its own top
// max(1, int(len * (1 - r))) by the (whole-prompt) scores.
enum class BudgetLayout { kUniform, kPyramid, kAdaKV, kBlock, kChunk, kPerChunk };

struct EvictionSettings {
  std::string name;
  ScorerSettings scorer;
  TokenBudget budget;
  BudgetLayout layout = BudgetLayout::kUniform;
  double beta = 20.0;             // PyramidKV
  double alpha_safeguard = 0.2;   // AdaKV
  std::vector<int64_t> skip_layers;
  bool cam_merge = false;         // CaM
  double start_budget_ratio = 0.1;
  int64_t block_size = 128;       // BlockPress
  int64_t chunk_length = 20;      // ChunkKV, kPerChunk
  bool critical = false;          // CriticalKV
  double critical_epsilon = 1e-4;
  double first_stage_ratio = 0.5;
  bool rerotate = false;          // KeyRerotationPress: kept keys re-rotated to positions 0 .. n-1
  uint64_t seed = 0;
};

class EvictionPolicy final : public model::AttentionPolicy {
 public:
  EvictionPolicy(model::PolicyContext context, EvictionSettings settings);

  void begin_sequence(int64_t prompt_length) override { prompt_length_ = prompt_length; }
  std::unique_ptr<model::LayerKVCache> finish_prefill(std::unique_ptr<model::LayerKVCache> cache,
                                                      const model::PrefillSummary& summary) override;
  int64_t observation_window() const override;
  bool wants_query_statistics() const override { return settings_.scorer.kind == ScorerKind::kExpected; }
  bool renumbers_positions() const override { return settings_.rerotate; }

 private:
  std::unique_ptr<model::LayerKVCache> rerotated(const at::Tensor& keys, const at::Tensor& values,
                                                 const std::vector<at::Tensor>& kept, const at::Tensor& inv_freq,
                                                 int64_t total) const;

  EvictionSettings settings_;
  int64_t prompt_length_ = 0;
};

// kvpress KeyRerotationPress.rerotate_keys for one head: rows [n, head_dim] (post-RoPE keys of positions
// `positions`, sorted) re-rotated to positions 0 .. n-1 with the model's inv_freq [head_dim/2].
at::Tensor rerotate_keys(const at::Tensor& rows, const at::Tensor& positions, const at::Tensor& inv_freq);

class EvictionPolicyFactory final : public model::AttentionPolicyFactory {
 public:
  explicit EvictionPolicyFactory(EvictionSettings settings) : settings_(std::move(settings)) {}
  std::unique_ptr<model::AttentionPolicy> create(const model::PolicyContext& context) const override {
    return std::make_unique<EvictionPolicy>(context, settings_);
  }
  std::string name() const override { return settings_.name; }

 private:
  EvictionSettings settings_;
};

// Spare rows per head a compressed cache reserves for decoding.
int64_t decode_spare_rows(const model::PolicyContext& context, int64_t prompt_length);

}  // namespace loom::accel
