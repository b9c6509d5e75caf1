// Per-sequence attention state the decoder threads through its layers: the layer caches, the sequence's
// AttentionPolicy, and (during prefill) what finish_prefill needs — the last observation_window() post-RoPE queries
// and the running pre-RoPE query moments when the policy asked for them.
#pragma once

#include "rank/model/attention_policy.h"
#include "rank/model/kv_cache.h"

#include <ATen/ATen.h>

#include <memory>
#include <vector>

namespace loom::model {

struct PrefillObservation {
  at::Tensor window_queries;  // [num_heads, <= window, head_dim], post-RoPE, the prompt's last queries so far
  at::Tensor query_sum;       // [num_heads, head_dim] fp32, pre-RoPE
  at::Tensor query_outer_sum; // [num_heads, head_dim, head_dim] fp32, pre-RoPE
  int64_t query_count = 0;
};

// Decode-time compression (AttentionPolicy::decode_compression): the pre-RoPE queries of buffered decode steps.
struct DecodeQueryBuffer {
  std::vector<std::vector<at::Tensor>> entries;  // [layer][step]: [num_heads, tokens of the step, head_dim]
  int64_t steps = 0;                             // decode steps since the last compression
};

struct SequenceState {
  std::unique_ptr<AttentionPolicy> policy;
  std::vector<std::unique_ptr<LayerKVCache>> caches;   // one per layer
  std::vector<PrefillObservation> observations;        // one per layer, filled during prefill
  int64_t prompt_length = 0;
  DecodeQueryBuffer decode_queries;
};

// Where one sequence's tokens sit in a ragged batch forward.
struct SequenceSegment {
  int64_t offset = 0;          // first row in the batch
  int64_t length = 0;          // rows (tokens)
  int64_t start_position = 0;  // RoPE position of the first token
  int64_t rope_seq_len = 0;    // sequence length the call covers (dynamic RoPE): prompt length during prefill
  bool prefill = false;        // prefill chunk: policy hooks and observations apply
  SequenceState* state = nullptr;
};

}  // namespace loom::model
