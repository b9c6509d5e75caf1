// The engine contract the worker loop calls. One InferenceEngine per rank (or per TP group member): it owns the
// loaded model, tokenizer and device, and runs tokenized prompts (already rendered and truncated by the scheduler)
// with continuous batching: submit() adds requests at any time, step() advances every admitted request by one
// prefill chunk or one decode token and returns those that finished, so requests join and leave a running batch.
// load() tells the caller how much more the engine can take (free decode slots and KV-cache room). run() is the
// batch convenience: submit, step until idle, results in request order. A request that fails (out of memory, a
// method's precondition, non-finite logits) yields ok=false with the reason; the others are unaffected.
#pragma once

#include "common/generation_settings.h"
#include "common/sample_cost.h"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace loom::model {

struct InferenceRequest {
  int64_t tag = 0;  // the caller's identifier, copied into the result
  std::string sample_key;
  std::vector<int32_t> input_ids;
  // The caller's identity of input_ids: requests submitted together with the same prompt_id (>= 0) and prefill
  // chunk size share one prefill where their methods allow it (sweeps); the caller guarantees their ids are equal.
  // -1: no identity, never shared.
  int64_t prompt_id = -1;
  GenerationSettings generation;
  MethodSpec method;
  // Question-agnostic compression (kvpress's pipeline): the last question_tokens ids of input_ids are the question.
  // The context (the ids before them) is prefilled under the method and compressed; the question is then fed over
  // the compressed cache without compression, and generation starts from its last token. 0: the whole prompt is
  // prefilled under the method (query-aware).
  int64_t question_tokens = 0;
};

struct InferenceResult {
  int64_t tag = 0;
  std::string sample_key;
  bool ok = true;
  std::string error;                // reason when !ok
  std::vector<int32_t> output_ids;  // generated ids (stop string / EOS removed)
  std::string text;                 // decoded output (skip_special_tokens=true), cut at the first stop string
  SampleCost cost;                  // what it cost (common/sample_cost.h): tokens, prefill (shared_by), decode, KV,
                                    // peak memory, prefill block density; output_tokens = output_ids.size()
  double queue_seconds = 0;         // from submit() to the start of its prefill
  double mean_decode_batch = 0;     // mean number of requests in its decode steps
};

struct EngineOptions {
  std::filesystem::path model_dir;
  std::string device = "auto";     // auto|cpu|cuda
  std::string dtype = "auto";      // auto|bfloat16|float16|float32 (auto: config.json torch_dtype; fp32 on CPU)
  int32_t max_batch_size = 1;      // most requests decoding at once (decode slots)
  double kv_cache_memory = 0;      // KV pool: bytes when > 1, a fraction of the free device memory when in (0, 1];
                                   // 0 = auto (CUDA: 0.9 of what is free after the weights and the prefill
                                   // workspace; CPU: 2 GiB, grown on demand)
  int64_t kv_page_size = 64;       // tokens per KV page
  int64_t max_context = 0;         // longest prompt + output; 0 = config.json max_position_embeddings
  bool cuda_graphs = true;         // capture decode steps in CUDA graphs where possible
  std::string prefill_attention = "auto";  // CUDA prefill attention: auto|cudnn|flash|sdpa
  int local_device_index = 0;      // CUDA device for this rank
  int cpu_threads = 0;             // CPU: libtorch + BLAS threads (0: every CPU of this process's affinity mask)
  // Dense copies of the longest prompt's cache the CUDA prefill workspace holds beside the KV pool: 2 (a prefill
  // shared by a sweep's methods and one method's own copy), or 1 when every method keeps the prefill's cache as its
  // own (the full cache: the pages are its only other copy), which leaves that much more memory to the pool; with 1,
  // identical prompts are prefilled one by one rather than sharing a prefill (which would copy the cache).
  int prefill_cache_copies = 2;
  // Tokens of the largest prefill chunk the engine will run (the job's generation.prefill_chunk_size): the workspace
  // keeps room for its activations. 0 = GenerationSettings' default chunk.
  int64_t prefill_chunk_tokens = 0;
  // true: the KV pool is made by InferenceEngine::size_kv_pool() once the caller knows its longest row (a job's rows
  // are prepared while the model loads), so the prefill workspace is sized for that row, not for max_context.
  bool defer_kv_pool = false;
};

// How much more an engine can take now.
struct EngineLoad {
  int32_t running = 0;         // submitted and not finished
  int32_t waiting = 0;         // submitted, prefill not started
  int32_t decoding = 0;        // past their prefill, generating
  int32_t free_slots = 0;      // requests it would accept now (0 while a prompt waits for its prefill)
  int64_t free_kv_tokens = 0;  // KV-cache room left after every admitted request's reservation, in tokens of one
                               // sequence's full cache
};

// How pooled_hidden_states reduces a prompt's per-token hidden states to one vector.
enum class HiddenPooling {
  kMean,  // the mean over every token of the prompt (BOS included when the ids hold it)
  kLast,  // the last token's
};

// Hidden states of prompts without generating (embeddings, `loom_mpi serve`'s /v1/embeddings). Offered by engines
// that run the model here (create_engine's); an API engine has none.
class HiddenStateSource {
 public:
  virtual ~HiddenStateSource() = default;
  virtual int64_t hidden_size() const = 0;
  // Prefill only, with the full (dense) cache, nothing kept afterwards: each prompt's final hidden states (after the
  // model's final norm, the input of lm_head) pooled over its tokens, fp32 [hidden_size] per prompt, in order.
  // Several prompts share a forward (ragged segments) up to 8192 rows. Synchronous: call it from the thread that
  // calls step(), between steps; under tensor parallelism every rank of the group calls it with the same prompts and
  // gets the same vectors. Throws loom::InputError for an empty prompt or a token id outside the vocabulary.
  virtual std::vector<std::vector<float>> pooled_hidden_states(const std::vector<std::vector<int32_t>>& prompts,
                                                               HiddenPooling pooling) = 0;
};

class InferenceEngine {
 public:
  virtual ~InferenceEngine() = default;
  // Requests submitted together with the same prompt (InferenceRequest::prompt_id and chunk size) share one prefill
  // where their methods allow it (sweeps).
  virtual void submit(std::vector<InferenceRequest> requests) = 0;
  virtual std::vector<InferenceResult> step() = 0;
  virtual EngineLoad load() const = 0;
  virtual bool idle() const = 0;
  virtual std::string device_description() const = 0;  // e.g. "cpu (2 threads)" or "NVIDIA H100 80GB HBM3"
  // The engine's hidden states, or null when it does not run the model itself (an API engine).
  virtual HiddenStateSource* hidden_states() { return nullptr; }
  // Once, before the first request, for an engine made with EngineOptions::defer_kv_pool: the most KV tokens one row
  // it will be given can hold (prompt + output; 0: unknown, max_context). Under tensor parallelism every rank of the
  // group calls it with the same value. An engine without a KV pool ignores it.
  virtual void size_kv_pool(int64_t /*longest_row_tokens*/) {}

  // submit(batch), then step() until idle; one result per request, in order.
  std::vector<InferenceResult> run(const std::vector<InferenceRequest>& batch);
};

class AttentionPolicyFactory;

// Maps a MethodSpec to the factory of its per-sequence policies. The engine does not know the methods: the worker
// passes in the acceleration module's resolver (dependency injection; src/rank/accel depends on src/rank/model, not
// the other way round). Throws loom::InputError for an unknown method or bad parameters.
using PolicyResolver = std::function<std::shared_ptr<const AttentionPolicyFactory>(const MethodSpec&)>;

}  // namespace loom::model

namespace loom::parallel {
class Communicator;
}

namespace loom::model {

// Loads the model directory (sharded by tp->rank() when tp->size() > 1) and returns a ready engine.
// tp may be null for a single-rank group.
std::unique_ptr<InferenceEngine> create_engine(const EngineOptions& options, parallel::Communicator* tp,
                                               PolicyResolver resolver);

}  // namespace loom::model
