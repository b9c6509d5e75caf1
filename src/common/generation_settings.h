// Plain, framework-free descriptions of "how to generate" and "which acceleration method", shared by the job file
// parser (scheduler), the work messages (MPI) and the engine (rank). Serializable with Boost.Serialization.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace loom {

struct GenerationSettings {
  int32_t max_new_tokens = 32;
  bool do_sample = false;         // false: greedy
  float temperature = 1.0f;
  float top_p = 1.0f;
  int32_t top_k = 0;              // 0: off
  uint64_t seed = 42;
  std::vector<std::string> stop_strings;  // generation stops when the decoded output contains one; it is cut there
  std::vector<int32_t> eos_token_ids;     // in addition to the model's generation_config eos ids
  // Tokens per prefill chunk. 16384: on an H100 it brings a chunked 32K / 128K prefill to 75 / 77 % of the bf16
  // matmul ceiling, against 73 / 75 % with 4096 (docs/performance/gpu-engine.md); vLLM's offline default is alike.
  int32_t prefill_chunk_size = 16384;
  bool ignore_eos = false;                // generate max_new_tokens whatever the EOS ids (throughput benchmarks)

  template <class Archive>
  void serialize(Archive& ar, unsigned /*version*/) {
    ar & max_new_tokens & do_sample & temperature & top_p & top_k & seed & stop_strings & eos_token_ids &
        prefill_chunk_size & ignore_eos;
  }
};

// An acceleration method of the method catalogue (methods/method_catalogue.h) and the parameters a job gives it.
// name "full" (or empty) means the dense full cache. params_json is a JSON object (string form so it crosses MPI).
struct MethodSpec {
  std::string name = "full";
  std::string params_json = "{}";
  std::string label;  // display/row label, e.g. "snapkv@0.5"; defaults to name
  // false: kvpress's question-agnostic protocol (the context is compressed before the question is appended; the
  // prompt carries a context/question split, protocol::Prompt::question_tokens). true: the whole prompt.
  bool query_aware = true;

  template <class Archive>
  void serialize(Archive& ar, unsigned /*version*/) {
    ar & name & params_json & label & query_aware;
  }
};

}  // namespace loom
