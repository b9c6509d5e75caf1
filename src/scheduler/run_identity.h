// Run identity (docs/trust.md): what produced a result row, recorded in the row as its fingerprint, a short
// "component=hash;..." string with, in this order:
//   model      config.json bytes, every *.safetensors file's name, size and header bytes (no weight hashing), dtype
//   tokenizer  tokenizer.json / tokenizer.model / tokenizer_config.json / special_tokens_map.json /
//              chat_template.* bytes, the job's model.chat_template and model.enable_thinking
//   generation the row's resolved generation settings (max_new_tokens, sampling, seed, stop strings, eos ids,
//              ignore_eos; not prefill_chunk_size, which only changes speed)
//   prompt     the row's input token ids (and follow-up turn), references and scorer metadata: what the benchmark
//              spec, its options, its data files, the chat template and truncation (max_context) made of it
//   method     the acceleration method's name and resolved parameters
//   version    the loom_mpi version
// Hashes are the first 16 hex digits of SHA-256. Cheap (no weight hashing) and deterministic. Resume continues
// only rows whose fingerprint equals this run's; describe() gives a short text per component hash so a mismatch
// can say what changed (old vs new).
#pragma once

#include "common/generation_settings.h"
#include "scheduler/job_config.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace loom::scheduler {

inline constexpr const char* kFingerprintComponents[] = {"model", "tokenizer", "generation", "prompt", "method",
                                                         "version"};

class RunIdentity {
 public:
  // Reads the model directory's files named above (InputError when config.json is missing or unreadable).
  static RunIdentity of_job(const JobConfig& job);

  // The prompt component of one sample (shared by its methods). chain: the chained generation's prompt and budget
  // (protocol::Prompt::chain_*), empty when there is none (then the hash is what it was before chains existed).
  static std::string prompt_hash(const std::vector<int32_t>& input_ids, const std::vector<int32_t>& followup_ids,
                                 const std::string& followup_prefix, const std::string& followup_suffix,
                                 const std::string& references_json, const std::string& metadata_json,
                                 const std::string& chain = "");

  // The full fingerprint of one row; records the descriptions of its generation and method hashes.
  std::string row_fingerprint(const GenerationSettings& generation, const MethodSpec& method,
                              const std::string& prompt_hash);

  // "component=hash" -> short description (model, tokenizer, generation, method, version).
  const std::map<std::string, std::string>& descriptions() const { return descriptions_; }
  const std::string& model() const { return model_; }
  const std::string& tokenizer() const { return tokenizer_; }
  const std::string& version() const { return version_; }

 private:
  std::string model_;
  std::string tokenizer_;
  std::string version_;
  std::map<std::string, std::string> descriptions_;
};

// First 16 hex digits of SHA-256 of `bytes`.
std::string short_hash(const std::string& bytes);

// "model=..;tokenizer=.." -> {component: hash}; an empty or malformed string gives an empty map.
std::map<std::string, std::string> parse_fingerprint(const std::string& fingerprint);

// The components (in kFingerprintComponents order) whose hashes differ; every component when `stored` has none.
std::vector<std::string> changed_components(const std::string& stored, const std::string& current);

}  // namespace loom::scheduler
