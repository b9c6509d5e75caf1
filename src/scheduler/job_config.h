// A parsed, type-checked job file (docs/job-file.md). Produced by parse_job_file/parse_job_text from the key table
// in job_schema.h; every relative path has already been resolved against the job file's directory.
#pragma once

#include "common/generation_settings.h"
#include "benchmarks/registry.h"
#include "metrics/judge/judge_config.h"
#include "rag/rag_config.h"

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace loom::scheduler {

struct ModelConfig {
  std::filesystem::path path;
  std::string dtype = "auto";
  std::string device = "auto";
  int64_t max_context = 0;  // 0: config.json max_position_embeddings
  std::string chat_template;
  bool enable_thinking = false;
  int32_t max_batch_size = 64;
  int32_t cpu_threads = 0;  // 0: auto (model::auto_cpu_threads)
  double kv_cache_memory = 0;  // bytes (> 1) or fraction of free memory (<= 1); 0: auto
  int64_t kv_page_size = 64;
  bool cuda_graphs = true;
  std::string prefill_attention = "auto";
  // backend openai (rank/api/openai_engine.h): rows come from an OpenAI-compatible server.
  std::string backend = "local";  // local|openai
  std::string base_url;
  std::string api_model;          // the job's model.model
  std::string api_key_env;
  std::string endpoint = "completions";
  int32_t max_in_flight = 8;
  double timeout_s = 120;
  int32_t max_retries = 4;
};

// Keys the job sets under `generation:`; each overrides the benchmark's official setting for every sample.
struct GenerationOverrides {
  std::optional<int32_t> max_new_tokens;
  std::optional<bool> do_sample;
  std::optional<float> temperature;
  std::optional<float> top_p;
  std::optional<int32_t> top_k;
  std::optional<uint64_t> seed;
  std::optional<std::vector<std::string>> stop_strings;
  std::optional<int32_t> prefill_chunk_size;
  std::optional<bool> ignore_eos;

  GenerationSettings apply(GenerationSettings settings) const;
};

struct JobConfig {
  std::filesystem::path source_file;  // the job file as given
  std::string text;                   // its contents (stored as an attribute of the results file)
  std::string name;
  ModelConfig model;
  int32_t tensor_parallel = 1;
  std::string cost_profile = "auto";
  std::vector<benchmarks::BenchmarkSpec> benchmarks;
  std::vector<MethodSpec> methods;  // one per `acceleration` entry; rows are per (sample, method)
  GenerationOverrides generation;
  rag::RagConfig rag;  // `rag:`; method empty when the job has none
  metrics::judge::JudgeConfig judge;  // `judge:`; base_url empty when the job has none (docs/judge.md)
  std::filesystem::path output_path;
  double progress_interval_s = 10;
  bool resume = true;
  int32_t max_attempts = 3;  // a failed row is retried by reruns until it has been tried this many times
  std::string log_level = "info";
  bool log_first_rank_only = false;
};

}  // namespace loom::scheduler
