// The engine contract the worker loop calls. One InferenceEngine per rank (or per TP group member): it owns the
// loaded model, tokenizer and device. run() takes a batch of tokenized prompts (already rendered and truncated by
// the scheduler) and returns one result per request, in order. A request that fails (out of memory, a method's
// precondition) yields status "failed" with the reason; the others in the batch are unaffected.
#pragma once

#include "common/generation_settings.h"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace loom::model {

struct InferenceRequest {
  std::string sample_key;
  std::vector<int32_t> input_ids;
  GenerationSettings generation;
  MethodSpec method;
};

struct InferenceResult {
  std::string sample_key;
  bool ok = true;
  std::string error;                // reason when !ok
  std::vector<int32_t> output_ids;  // generated ids (stop string / EOS removed)
  std::string text;                 // decoded output (skip_special_tokens=true), cut at the first stop string
  int64_t input_tokens = 0;
  double prefill_seconds = 0;       // the prompt's prefill (shared, see below) + this method's compression
  int32_t prefill_shared_by = 1;    // requests of the batch that shared this prompt's prefill (sweeps; 1: alone)
  double decode_seconds = 0;
  int64_t kv_bytes = 0;             // KV-cache bytes held after prefill (after compression)
  double prefill_block_density = 1.0;  // sparse prefill: fraction of causal attention blocks computed (1: dense)
  int64_t peak_memory_bytes = 0;    // peak device memory during this request (CPU: peak RSS growth estimate)
};

struct EngineOptions {
  std::filesystem::path model_dir;
  std::string device = "auto";     // auto|cpu|cuda
  std::string dtype = "auto";      // auto|bfloat16|float16|float32 (auto: config.json torch_dtype; fp32 on CPU)
  int32_t max_batch_size = 1;      // samples decoded together
  int local_device_index = 0;      // CUDA device for this rank
  int cpu_threads = 0;             // CPU: libtorch + BLAS threads (0: every CPU of this process's affinity mask)
};

class InferenceEngine {
 public:
  virtual ~InferenceEngine() = default;
  virtual std::vector<InferenceResult> run(const std::vector<InferenceRequest>& batch) = 0;
  virtual std::string device_description() const = 0;  // e.g. "cpu (2 threads)" or "NVIDIA H100 80GB HBM3"
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
