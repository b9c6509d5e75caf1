// Prefill + decode of one batch of requests (the body of InferenceEngine::run):
//   per request: validate ids, create its AttentionPolicy (resolver), begin_sequence, make_cache per layer,
//   chunked prefill (prefill_chunk_size tokens per forward; policy hooks per chunk; logits of the last position
//   only), finish_prefill per layer, first token;
//   requests with the same prompt (ids and chunk size) whose policies keep the dense prefill (all but sparse-prefill
//   methods) share ONE prefill: each gets a copy of its dense caches and runs its own finish_prefill, so a method
//   sweep pays a sample's prefill once per batch (prefill_seconds = shared prefill + own compression);
//   then batched decode: every unfinished sequence contributes one token to a ragged forward (linear layers batched,
//   attention per sequence through its cache) until EOS, a stop string or max_new_tokens.
// A request that throws during its prefill is reported failed with the reason; the others continue. An exception in
// a batched decode step fails the sequences of that step (their caches are in an unknown state).
#pragma once

#include "rank/model/decoder_model.h"
#include "rank/model/inference_engine.h"

#include <vector>

namespace loom::text {
class Tokenizer;
}

namespace loom::model {

struct GenerationResources {
  DecoderModel* model = nullptr;
  const text::Tokenizer* tokenizer = nullptr;  // null when the directory has no tokenizer: text stays empty
  PolicyResolver resolver;                     // may be empty: only the full cache is then available
  parallel::Communicator* tp = nullptr;
};

std::vector<InferenceResult> generate_batch(GenerationResources& resources,
                                            const std::vector<InferenceRequest>& batch);

}  // namespace loom::model
