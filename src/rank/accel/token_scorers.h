// Token importance scores of the eviction methods, [num_kv_heads, T] float32, higher = keep. Protected tokens
// (observation window, sinks, last token) get max + 1 as in kvpress. All follow kvpress's definitions unless noted;
// grouped-query heads are averaged over their group (kvpress "GQA mean").
//
//   streaming   sinks first, then the most recent tokens (kvpress StreamingLLMPress, n_sink)
//   snapkv      mean over the window queries of causal softmax attention, 1-D avg/max pooling (window_size,
//               kernel_size, pooling)
//   h2o         LOOM-Scope H2O: window attention summed over the window queries with the softmax taken per
//               `softmax_chunk` keys (LOOM-Scope's chunked quirk; 0 = one softmax over all keys); no pooling
//   knorm       -||k||2 (kvpress KnormPress; LOOM-Scope L2Compress keeps the same smallest-norm tokens)
//   tova        last query's attention averaged over all heads (all ranks under TP), last token protected
//   observed    sum over all prompt queries of attention / number of queries that see the key
//   keydiff     -cos(k, mean of normalised keys)
//   expected    ExpectedAttention: pre-RoPE query mean/covariance, averaged RoPE over the next
//               n_future_positions, softmax(k mu/sqrt(d) + k^T Sigma k / 2d), (s + epsilon) * ||v||, n_sink protected
//   cake        CAKE eviction indicator: pooled (kernel 5) mean + gamma * variance of window attention
//   cur, lagkv  key/value-only partition scores (partition_scorers.h)
//   finch       kvpress FinchPress.score: SnapKV's window attention without pooling, each window query's row
//               multiplied by its position (normalize_scores), mean over the window; the window protected
//   qfilter     kvpress QFilterPress: -(q_filter[layer, head] . k) with trained filters (method_files.h)
//   random      kvpress RandomPress: uniform [0, 1) draws of torch's CPU generator seeded with `seed` on every call
//               (so every layer draws the same numbers, as kvpress with a seed)
#pragma once

#include "rank/accel/method_params.h"
#include "rank/model/attention_policy.h"

#include <ATen/ATen.h>

#include <cstdint>
#include <memory>
#include <string>

namespace loom::accel {

enum class ScorerKind { kStreaming, kSnapKV, kH2O, kKnorm, kTOVA, kObserved, kKeyDiff, kExpected, kCake, kCur,
                        kLagKV, kRandom, kFinch, kQFilter };

struct ScorerSettings {
  ScorerKind kind = ScorerKind::kSnapKV;
  int64_t window_size = 64;
  int64_t kernel_size = 5;
  bool max_pooling = false;
  int64_t n_sink = 4;
  int64_t softmax_chunk = 512;
  int64_t n_future_positions = 512;
  bool use_covariance = true;
  bool use_vnorm = true;
  double epsilon = 0.0;
  double gamma = 200.0;  // CAKE variance weight
  std::string leverage = "kv_product";  // CUR
  bool local_approximation = true;     // CUR
  int64_t local_window = 16;           // CUR
  int64_t lag_size = 128;              // LagKV
  uint64_t seed = 42;                  // random
  bool normalize_scores = true;        // finch
  std::shared_ptr<const at::Tensor> q_filters;  // qfilter: [num_layers, num_kv_heads (all ranks), head_dim] fp32
};

// Scorer names accepted by AdaKV's `scorer` parameter.
const std::vector<std::string>& scorer_names();
ScorerKind scorer_kind(const std::string& name);

// The parameters of `kind` from the method's resolved parameters (their defaults come from the method catalogue).
ScorerSettings read_scorer_settings(ScorerKind kind, const MethodParams& params);

// Number of prompt queries finish_prefill needs for this scorer (all of them for ObservedAttention).
int64_t scorer_query_window(const ScorerSettings& settings, int64_t prompt_length);

struct ScoreInputs {
  at::Tensor keys;    // [num_kv_heads, T, head_dim]
  at::Tensor values;  // [num_kv_heads, T, head_dim]
  const model::PrefillSummary* summary = nullptr;
  const model::PolicyContext* context = nullptr;
};

at::Tensor score_tokens(const ScorerSettings& settings, const ScoreInputs& inputs);

// Shared pieces (also used by CaM, ThinK and CAKE).
// Causal softmax attention of the w window queries (positions T-w..T-1) over all T keys: [num_heads, w, T] fp32.
at::Tensor window_attention(const at::Tensor& window_queries, const at::Tensor& keys, double scale);
// [num_heads, ...] -> [num_kv_heads, ...] mean over each query group.
at::Tensor group_mean(const at::Tensor& per_query_head, int64_t num_kv_heads);
// Appends `after` (and prepends `before`) entries equal to max + 1 along the last dimension.
at::Tensor pad_protected(const at::Tensor& scores, int64_t before, int64_t after);

}  // namespace loom::accel
