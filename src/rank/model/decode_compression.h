// Decode-time compression (kvpress DecodingPress, through AttentionPolicy::decode_compression and
// decode_kept_rows): the bookkeeping after each decode step of a sequence whose policy compresses while decoding.
//
// kvpress's DecodingPress hook runs after every forward pass past the prefill. It appends the layer's attention
// input (the step's hidden states) to a per-layer buffer and counts the step; once `compression_interval` steps are
// counted, or the step fed at least `target_size` tokens, it re-scores the layer's whole cache (prompt and decoded
// tokens) with its scorer press, keeps the scorer's top rows (the count from a ratio found so that
// int(T * (1 - ratio)) == target_size; nothing when T <= target_size), resets the count and empties the buffer.
// After every step the buffer keeps its last `hidden_states_buffer_size` entries. CompressionRatioDecodingPress
// replaces target_size by max(1, int(S * (1 - ratio))), S = the current token's position + 1 (decode_target_size). The engine does the same per
// sequence with the steps' pre-RoPE queries (the scorers recompute queries from hidden states with q_proj, so this
// is what they read). kvpress applies the RoPE of the *current* forward to the buffered queries
// (position_embeddings[:, -window:] of a one-token step is that token's position), so every buffered query is
// rotated at the current token's position; the tokens of the current step at their own positions.
//
// A question fed token by token (InferenceRequest::question_tokens) is one forward in kvpress's pipeline: its
// tokens form one buffer entry and count as one step, checked once its last token is in.
//
// Compression reads each full-attention layer's rows (from the PagedKVStore, or the sequence's own caches), asks
// the policy which rows each KV head keeps (in the order to store them: kvpress keeps topk order), and stores only
// those (store->load frees the rest). Sliding-window layers keep their window.
#pragma once

#include "rank/model/generation.h"
#include "rank/model/paged_kv_store.h"

#include <ATen/ATen.h>

#include <vector>

namespace loom::model {

// Whether the sequence's policy compresses while decoding (its decode steps then record their queries and run
// without CUDA graphs).
bool compresses_while_decoding(const Sequence& seq);

// Prepares the query buffer (one list per layer) before the sequence's first decode step.
void begin_decode_queries(const DecoderModel& model, Sequence& seq);

struct DecodeStepKind {
  bool joins_previous = false;  // the step's token belongs to the previous step's forward (a question's next token)
  bool open = false;            // more tokens of this forward follow (a question's token before its last)
};

// After a decode step whose token is in the cache (the store advanced, next_position moved past it). Returns the
// rows kept per layer and KV head when it compressed (an empty list for a layer left alone), else an empty vector.
std::vector<std::vector<at::Tensor>> after_decode_step(const GenerationResources& res, Sequence& seq,
                                                       PagedKVStore* store, DecodeStepKind kind);

}  // namespace loom::model
