// One request's life in the engine, as functions of its Sequence (the batch scheduler, batch_scheduler.h, decides
// when each runs):
//   start_sequence():   validates the ids and settings, creates the request's AttentionPolicy (resolver) and calls
//                       begin_sequence.
//   run_prefill_chunk(): one chunk of a prompt's prefill through a SequenceState (policy hooks, observations,
//                       dense caches); logits of the last position on the last chunk.
//   finish_sequence():  finish_prefill of every layer from the prefill's observations (possibly a shared prefill's,
//                       cut to this policy's window), then the first token from the prompt's logits; with a
//                       question (InferenceRequest::question_tokens) only the context was prefilled and the question
//                       tokens are fed next, one per decode step, over the compressed cache (no first token yet).
//   accept_token() / finalize_output(): EOS, stop strings, max_new_tokens; the text cut at the first stop string.
// Requests with the same prompt whose policies keep the dense prefill (all but sparse-prefill methods) can share
// one prefill (SharedPrefillPolicy): each then gets a copy of the dense caches and runs its own finish_prefill.
#pragma once

#include "rank/model/decoder_model.h"
#include "rank/model/inference_engine.h"
#include "rank/model/sampler.h"

#include <chrono>
#include <memory>
#include <set>
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

using Clock = std::chrono::steady_clock;

struct Sequence {
  InferenceRequest request;
  InferenceResult result;
  SequenceState state;
  std::unique_ptr<Sampler> sampler;
  std::set<int32_t> eos;
  std::vector<int32_t> generated;
  int64_t next_position = 0;  // RoPE position of the next token fed to the model
  int32_t slot = -1;          // PagedKVStore slot while it decodes from pages
  int64_t reserved_pages = 0; // pages it may still allocate (admission accounting)
  bool started = false;       // start_sequence succeeded
  bool decoding = false;      // has a first token and is not finished
  bool returned = false;      // its result was handed out
  Clock::time_point submitted;
  int64_t decode_steps = 0;
  double decode_batch_sum = 0;
  size_t question_fed = 0;  // question tokens (request.question_tokens) fed over the compressed cache so far
};

// The prompt ids prefilled under the method: the whole prompt, or its context when the request has a question.
std::vector<int32_t> prefill_ids(const InferenceRequest& request);
// Whether the sequence's next decode input is a question token (not a generated one).
bool feeding_question(const Sequence& seq);
// The token id the next decode step feeds: the next question token, else the last generated one.
int32_t next_input(const Sequence& seq);

// Whether decoding uses greedy argmax (no sampling).
bool greedy(const GenerationSettings& settings);

void start_sequence(const GenerationResources& res, Sequence& seq);
void fail(Sequence& seq, const std::string& reason);
at::Tensor run_prefill_chunk(DecoderModel& model, const at::Tensor& all_ids, int64_t begin, int64_t count,
                             SequenceState& state);
void finish_sequence(const GenerationResources& res, Sequence& seq, const std::vector<PrefillObservation>& observations,
                     const at::Tensor& logits);
// Records the token; returns true when the sequence is finished (EOS, stop string, length).
bool accept_token(Sequence& seq, int32_t token, const text::Tokenizer* tokenizer);
void finalize_output(Sequence& seq, const text::Tokenizer* tokenizer);

// The prefill policy of a group of requests sharing one prompt: a dense cache sized for the largest reservation,
// the longest observation window any of them asks for, query statistics when one of them wants them.
std::unique_ptr<AttentionPolicy> make_shared_prefill_policy(const std::vector<Sequence*>& group);

// Whether two started sequences may share one prefill: the same prompt_id (>= 0) and prefill chunk size.
bool same_prefill(const Sequence& a, const Sequence& b);

}  // namespace loom::model
