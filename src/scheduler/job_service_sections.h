// The job keys of the services a job talks to over the network: `model.backend: openai` (the API backend), `rag:`
// (the retriever) and `judge:` (the LLM judge). Each reads and checks its section; with check_env the API key's
// environment variable must be set. Internal to the job parser.
#pragma once

#include "scheduler/job_config.h"
#include "scheduler/job_reader.h"

namespace loom::scheduler::job_reader {

void read_api_backend(const Reader& reader, const YAML::Node& model, int32_t tensor_parallel, bool check_env,
                      ModelConfig& out);
void read_rag(const Reader& reader, const YAML::Node& node, bool check_env, rag::RagConfig& out);
void read_judge(const Reader& reader, const YAML::Node& node, bool check_env, metrics::judge::JudgeConfig& out);

}  // namespace loom::scheduler::job_reader
