#include "scheduler/job_schema.h"

namespace loom::scheduler {

const std::vector<KeySpec>& job_schema() {
  using T = ValueType;
  static const std::vector<KeySpec> schema = {
      {"name", T::kString, "<job file stem>", "", "Job name; used in the default output path and in logs."},
      {"model", T::kSection, "", "", "The model to evaluate.", true},
      {"model.path", T::kPath, "", "", "Hugging Face model directory (config.json, *.safetensors, tokenizer).", true},
      {"model.dtype", T::kString, "auto", "auto|bfloat16|float16|float32",
       "Weight and activation dtype; auto = config.json torch_dtype on GPU, float32 on CPU."},
      {"model.device", T::kString, "auto", "auto|cpu|cuda", "Where the engine runs; auto = cuda when available."},
      {"model.max_context", T::kInt, "0", "",
       "Longest input + output in tokens; 0 = config.json max_position_embeddings. Longer prompts are truncated "
       "by each benchmark's official rule."},
      {"model.chat_template", T::kString, "", "",
       "Chat format override (llama3, llama3_1, llama2, chatml, qwen3, mistral, mistral_v3, glm4, phi3, gemma3, raw); "
       "empty = recognised from tokenizer_config.json."},
      {"model.enable_thinking", T::kBool, "false", "", "Qwen3-style thinking mode in the chat template."},
      {"model.max_batch_size", T::kInt, "64", "",
       "Most (sample, method) rows a worker group holds at once (continuous batching: rows join and leave a "
       "running batch; the KV-cache budget admits fewer when it is full). A sample's sweep methods come together "
       "and share one prefill."},
      {"model.cpu_threads", T::kInt, "0", "",
       "CPU device: threads per rank for libtorch and BLAS; 0 = the rank's CPUs (shared evenly by unbound ranks)."},
      {"model.kv_cache_memory", T::kFloat, "0", "",
       "Paged KV cache of a rank: bytes when > 1, a fraction of the free device memory when <= 1; 0 = auto (GPU: "
       "0.9 of what is left after the weights and a prefill workspace for the job's longest row; CPU: 2 GiB, "
       "allocated as it fills)."},
      {"model.kv_page_size", T::kInt, "64", "", "Tokens per KV-cache page (one KV head of one layer)."},
      {"model.cuda_graphs", T::kBool, "true", "", "Replay decode steps as CUDA graphs where possible (GPU)."},
      {"model.prefill_attention", T::kString, "auto", "auto|cudnn|flash|sdpa",
       "GPU prefill attention kernel; auto = cuDNN when it passes a self-check, else FlashAttention-2."},
      {"model.backend", T::kString, "local", "local|openai",
       "local = this build's engine on each rank; openai = an OpenAI-compatible server (`loom_mpi serve`, vLLM, a "
       "hosted API) generates each row; model.path still gives the tokenizer, chat template and config.json "
       "(weights are not read). docs/api-backend.md."},
      {"model.base_url", T::kString, "", "", "backend openai: the API's base URL, e.g. http://127.0.0.1:8000/v1."},
      {"model.model", T::kString, "", "", "backend openai: the server's model name (empty: not sent)."},
      {"model.api_key_env", T::kString, "", "",
       "backend openai: the environment variable that holds the API key (empty: no key is sent)."},
      {"model.endpoint", T::kString, "completions", "completions",
       "backend openai: the endpoint; prompts are sent as token ids to /completions (chat is rendered locally)."},
      {"model.max_in_flight", T::kInt, "8", "", "backend openai: requests in flight at once per worker group."},
      {"model.timeout_s", T::kFloat, "120", "", "backend openai: seconds one request may take before it is retried."},
      {"model.max_retries", T::kInt, "4", "",
       "backend openai: retries of a request after a timeout, a refused connection, HTTP 408, 429 or 5xx "
       "(exponential backoff from 0.5 s, Retry-After honoured); then the row fails and is retried on rerun."},
      {"parallel", T::kSection, "", "", "How ranks are used."},
      {"parallel.tensor_parallel", T::kInt, "1", "",
       "Ranks per worker group (tensor parallelism); the world size must be a multiple of it."},
      {"parallel.cost_profile", T::kString, "auto", "",
       "Row of configs/cost_model.yaml used to predict sample cost; auto = detected from the device."},
      {"benchmarks", T::kSectionList, "", "", "Benchmarks to run; each entry expands into samples.", true},
      {"benchmarks[].name", T::kString, "", "",
       "Registered benchmark (see `loom_mpi list benchmarks`) or path of a custom benchmark YAML.", true},
      {"benchmarks[].tasks", T::kStringList, "[] (all tasks)", "", "Tasks to run."},
      {"benchmarks[].lengths", T::kLengthList, "[] (benchmark default)", "",
       "Target context lengths (synthetic benchmarks) or length filters; 4K = 4096; 0 or 0k = BABILong's 0k split."},
      {"benchmarks[].num_samples", T::kInt, "-1", "",
       "Samples per (task, length); -1 = all. Taken in file order, or after a seeded shuffle with `shuffle`."},
      {"benchmarks[].shuffle", T::kBool, "false", "",
       "Shuffle each (task, length)'s records with `seed` before taking num_samples (LOOM-Scope's order)."},
      {"benchmarks[].data_dir", T::kPath, "", "", "Directory of the benchmark's native data files."},
      {"benchmarks[].seed", T::kInt, "42", "", "Seed of synthetic generators and of `shuffle` / --limit."},
      {"benchmarks[].options", T::kObject, "{}", "", "Benchmark-specific options (documented per benchmark)."},
      {"acceleration", T::kMethods, "full", "",
       "KV-cache / sparse-attention method: a name, a mapping, or a list of them (a sweep); every sample runs "
       "once per method."},
      {"acceleration[].name", T::kString, "", "",
       "A method of the catalogue (`loom_mpi list methods`) or a preset configs/acceleration/<name>.yaml.", true},
      {"acceleration[].params", T::kObject, "{}", "",
       "Method parameters, overriding the catalogue's defaults (or the preset's values)."},
      {"acceleration[].label", T::kString, "<name>[@<param values>][+agnostic]", "",
       "Label of the method in results and reports; must be unique in a sweep."},
      {"acceleration[].query_aware", T::kBool, "<query_aware>", "",
       "This method's `query_aware` (overrides the job's)."},
      {"query_aware", T::kBool, "true", "",
       "false: kvpress's question-agnostic protocol: each method compresses the KV cache of the context before the "
       "question is appended, then the question is fed over the compressed cache (docs/acceleration.md); only "
       "benchmarks whose samples separate their question (RULER, LongBench, InfiniteBench, ...) support it. true: "
       "the whole prompt, question included, is prefilled under the method."},
      {"generation", T::kSection, "", "",
       "Overrides of the benchmarks' official generation settings; keys left out keep the official value."},
      {"generation.max_new_tokens", T::kInt, "<official>", "", "Most generated tokens."},
      {"generation.do_sample", T::kBool, "<official>", "", "Sample instead of greedy decoding."},
      {"generation.temperature", T::kFloat, "<official>", "", "Sampling temperature."},
      {"generation.top_p", T::kFloat, "<official>", "", "Nucleus sampling threshold."},
      {"generation.top_k", T::kInt, "<official>", "", "Top-k sampling (0 = off)."},
      {"generation.seed", T::kInt, "<official>", "", "Sampling seed."},
      {"generation.stop_strings", T::kStringList, "<official>", "", "Generation stops at the first of these."},
      {"generation.prefill_chunk_size", T::kInt, "16384", "", "Tokens per prefill chunk."},
      {"generation.ignore_eos", T::kBool, "false", "",
       "Generate max_new_tokens whatever the EOS ids (throughput measurements)."},
      {"rag", T::kSection, "", "",
       "Retrieval-augmented inputs (docs/rag.md): each sample's context is cut into chunks and replaced by the "
       "num_chunks that best match its question (LOOM-Scope's --rag_method)."},
      {"rag.method", T::kString, "", "bm25|embedding|contriever|llamaindex",
       "bm25 = BM25 Okapi over words; embedding = cosine similarity of embeddings from an OpenAI-compatible "
       "/v1/embeddings endpoint (rag.base_url); contriever = cosine similarity of a local BERT encoder's "
       "mean-pooled embeddings (rag.model, LOOM-Scope's contriever retriever); llamaindex = LlamaIndex's "
       "SentenceSplitter chunks and the cosine similarity of a local BERT encoder's [CLS] embeddings (LOOM-Scope's "
       "llamaindex retriever).", true},
      {"rag.chunk_size", T::kInt, "512", "",
       "Most tokens per chunk (LOOM-Scope's count: CJK characters, English words and numbers; method llamaindex: "
       "tokens of the chunk tokenizer)."},
      {"rag.overlap", T::kInt, "0", "",
       "Tokens of whole sentences carried over from a chunk into the next (0 = LOOM-Scope); < chunk_size. Method "
       "llamaindex: LlamaIndex's chunk_overlap (LOOM-Scope: 128)."},
      {"rag.num_chunks", T::kInt, "15", "", "Chunks kept per sample."},
      {"rag.order", T::kString, "score", "score|document",
       "Order of the kept chunks in the prompt: best first (LOOM-Scope) or as in the context."},
      {"rag.base_url", T::kString, "", "",
       "method embedding, required: the API's base URL, e.g. http://127.0.0.1:8000/v1 (POST <base_url>/embeddings); "
       "method llamaindex: embeddings from that endpoint instead of a local encoder."},
      {"rag.model", T::kString, "", "",
       "method embedding: the embedding model's name (empty: not sent); methods contriever and llamaindex, "
       "required: the encoder's directory (config.json, model.safetensors, tokenizer.json), relative to the job "
       "file."},
      {"rag.device", T::kString, "cpu", "",
       "methods contriever and llamaindex: where the encoder runs on rank 0 (cpu, cuda or cuda:N)."},
      {"rag.query_instruction", T::kString, "'Represent this question for searching relevant passages: '", "",
       "method llamaindex: text put before the question (LlamaIndex's HuggingFaceEmbedding instruction for BGE "
       "English models)."},
      {"rag.chunk_tokenizer", T::kString, "", "",
       "method llamaindex: a directory whose tokenizer.json counts chunk_size and overlap tokens (empty: rag.model's; "
       "required with rag.base_url; LlamaIndex counts tiktoken cl100k_base tokens)."},
      {"rag.api_key_env", T::kString, "", "",
       "method embedding: the environment variable that holds the API key (empty: no key is sent)."},
      {"rag.timeout_s", T::kFloat, "60", "", "method embedding: seconds one request may take before it is retried."},
      {"rag.max_retries", T::kInt, "4", "",
       "method embedding: retries after a timeout, a refused connection, HTTP 408, 429 or 5xx; then the sample's rows "
       "fail with the reason."},
      {"rag.batch_size", T::kInt, "64", "", "method embedding: texts per request."},
      {"judge", T::kSection, "", "",
       "LLM-as-judge metrics (docs/judge.md): after the run, rank 0 sends the judged metrics' official prompts "
       "(LongWriter quality, NIAH's judge, LongSafety's safety judge, LongCite's citation and correctness judges) to "
       "an OpenAI-compatible chat endpoint; "
       "verdicts are stored in the results file and reused."},
      {"judge.base_url", T::kString, "", "",
       "The judge API's base URL, e.g. http://127.0.0.1:8000/v1 (POST <base_url>/chat/completions); required "
       "unless the section has only judge.nli."},
      {"judge.model", T::kString, "", "",
       "The judge model's name (sent, and stored with every verdict); required with judge.base_url."},
      {"judge.api_key_env", T::kString, "", "",
       "The environment variable that holds the judge's API key (empty: no key is sent)."},
      {"judge.max_concurrency", T::kInt, "8", "", "Judge requests in flight at once."},
      {"judge.timeout_s", T::kFloat, "120", "", "Seconds one judge request may take before it is retried."},
      {"judge.max_retries", T::kInt, "4", "",
       "Retries of a judge request after a timeout, a refused connection, HTTP 408, 429 or 5xx (backoff from 0.5 s, "
       "Retry-After honoured); then that metric is not computed for the row, with the reason, until a rerun."},
      {"judge.metrics", T::kStringList, "[] (all)", "",
       "Judged metrics to compute: longwriter_quality, niah_judge, longsafety_safety, longcite_citation, "
       "longcite_correctness; empty = every one that applies to the rows."},
      {"judge.nli", T::kSection, "", "",
       "L-CiteEval's citation recall / precision / F1 (docs/judge.md): a local NLI classifier directory (upstream's "
       "rule: tasksource/deberta-base-long-nli, label entailment), run by rank 0 after the run, or an "
       "OpenAI-compatible completions endpoint serving an NLI model that answers TRUE's \"premise: <P> hypothesis: "
       "<H>\" with 1 for entailed (google/t5_xxl_true_nli_mixture); answers are stored in the results file and "
       "reused. An endpoint shares max_concurrency, timeout_s and max_retries with the judge."},
      {"judge.nli.base_url", T::kString, "", "",
       "The NLI API's base URL, e.g. http://127.0.0.1:8001/v1 (POST <base_url>/completions); absent: "
       "judge.nli.model is a local model directory."},
      {"judge.nli.model", T::kString, "", "",
       "With judge.nli.base_url, the NLI model's name (sent, and stored with every answer); without it, a local "
       "DeBERTa-v2/v3 NLI classifier directory (config.json, model.safetensors, spm.model; e.g. a copy of "
       "tasksource/deberta-base-long-nli), relative to the job file, whose name is stored with every answer.",
       true},
      {"judge.nli.api_key_env", T::kString, "", "",
       "The environment variable that holds the NLI API's key (empty: no key is sent)."},
      {"judge.nli.device", T::kString, "cpu", "",
       "A local NLI model only: where rank 0 runs it (cpu, cuda or cuda:N)."},
      {"output", T::kSection, "", "", "Where results go."},
      {"output.path", T::kPath, "results/<name>-<model directory name>.h5", "",
       "Results file (HDF5); the metrics summary is written next to it as .json."},
      {"output.progress_interval_s", T::kFloat, "10", "", "Seconds between progress lines on rank 0."},
      {"resume", T::kBool, "true", "",
       "Skip rows already in the results file (only rows made by this same run: model, tokenizer, generation, "
       "prompt, method, version); false starts over (the old file is kept aside as <stem>.old-<time>.h5)."},
      {"max_attempts", T::kInt, "3", "",
       "Reruns retry a failed row until it has been tried this many times (1: never retry)."},
      {"logging", T::kSection, "", "", "Logging."},
      {"logging.level", T::kString, "info", "trace|debug|info|warn|error|off", "Log level."},
      {"logging.first_rank_only", T::kBool, "false", "", "Only rank 0 logs."},
  };
  return schema;
}

const KeySpec* find_key(const std::string& key) {
  for (const KeySpec& spec : job_schema()) {
    if (spec.key == key) return &spec;
  }
  return nullptr;
}

std::vector<const KeySpec*> child_keys(const std::string& parent) {
  std::vector<const KeySpec*> children;
  const std::string prefix = parent.empty() ? "" : parent + ".";
  for (const KeySpec& spec : job_schema()) {
    if (spec.key.compare(0, prefix.size(), prefix) != 0) continue;
    const std::string leaf = spec.key.substr(prefix.size());
    if (!leaf.empty() && leaf.find('.') == std::string::npos) children.push_back(&spec);
  }
  return children;
}

std::string type_name(ValueType type) {
  switch (type) {
    case ValueType::kString: return "a string";
    case ValueType::kPath: return "a path";
    case ValueType::kInt: return "an integer";
    case ValueType::kFloat: return "a number";
    case ValueType::kBool: return "true or false";
    case ValueType::kStringList: return "a string or a list of strings";
    case ValueType::kLengthList: return "a length or a list of lengths (4096, \"4K\", \"128k\")";
    case ValueType::kObject: return "a mapping";
    case ValueType::kSection: return "a mapping";
    case ValueType::kSectionList: return "a list of mappings";
    case ValueType::kMethods: return "a method name, a mapping (name, params) or a list of them";
  }
  return "a value";
}

}  // namespace loom::scheduler
