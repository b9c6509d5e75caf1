#include "scheduler/job_service_sections.h"

#include "metrics/judged/judged_metrics.h"

#include <cstdlib>
#include <filesystem>
#include <regex>

namespace loom::scheduler::job_reader {

// model.backend openai: the server's URL (http:// or https://), its limits, and the API key's variable (set when the
// job is checked with its files, so a missing key stops the job before any row runs). Tensor parallelism has no
// meaning there.
void read_api_backend(const Reader& reader, const YAML::Node& model, int32_t tensor_parallel, bool check_env,
                      ModelConfig& out) {
  out.backend = reader.get<std::string>(model, "model.backend");
  const auto text = [&](const char* leaf) { return model[leaf] ? model[leaf].Scalar() : std::string(); };
  out.base_url = text("base_url");
  out.api_model = text("model");
  out.api_key_env = text("api_key_env");
  out.endpoint = reader.get<std::string>(model, "model.endpoint");
  out.max_in_flight = reader.get<int32_t>(model, "model.max_in_flight");
  require_positive(reader, model, "max_in_flight", "model.max_in_flight", out.max_in_flight);
  out.timeout_s = reader.get<double>(model, "model.timeout_s");
  require_positive(reader, model, "timeout_s", "model.timeout_s", out.timeout_s);
  out.max_retries = reader.get<int32_t>(model, "model.max_retries");
  require_positive(reader, model, "max_retries", "model.max_retries", out.max_retries, true);
  const auto at = [&](const char* leaf) { return model[leaf] ? model[leaf] : model; };
  if (out.backend != "openai") {
    for (const char* leaf : {"base_url", "model", "api_key_env"}) {
      if (model[leaf]) reader.fail(model[leaf], std::string("model.") + leaf, "set only with model.backend: openai");
    }
    return;
  }
  if (out.base_url.rfind("http://", 0) != 0 && out.base_url.rfind("https://", 0) != 0) {
    reader.fail(at("base_url"), "model.base_url",
                "the API's base URL starting with http:// or https:// (e.g. http://127.0.0.1:8000/v1), got '" +
                    out.base_url + "'");
  }
  if (tensor_parallel != 1) {
    reader.fail(at("backend"), "model.backend", "parallel.tensor_parallel 1 with backend openai (the server runs "
                                                "the model; each rank only sends requests)");
  }
  if (check_env && !out.api_key_env.empty() && !std::getenv(out.api_key_env.c_str())) {
    reader.fail(at("api_key_env"), "model.api_key_env",
                "the name of a set environment variable holding the API key; " + out.api_key_env + " is not set");
  }
}

namespace {

// rag.chunk_tokenizer (method llamaindex): a tokenizer directory, relative to the job file.
void read_chunk_tokenizer(const Reader& reader, const YAML::Node& node, bool check_files, rag::RagConfig& out) {
  if (!node["chunk_tokenizer"]) return;
  const std::filesystem::path tokenizer = reader.input_path(node["chunk_tokenizer"].Scalar());
  out.chunk_tokenizer = tokenizer.string();
  if (check_files && !std::filesystem::is_regular_file(tokenizer / "tokenizer.json") &&
      !std::filesystem::is_regular_file(tokenizer / "tokenizer.model"))
    reader.fail(node["chunk_tokenizer"], "rag.chunk_tokenizer",
                "a directory holding tokenizer.json; " + (tokenizer / "tokenizer.json").string() + " is missing");
}

}  // namespace

// rag: (docs/rag.md): chunking limits; for method embedding the endpoint and its key's variable (set when the job
// is checked with its files); for method contriever the encoder's directory (relative to the job file; its files
// checked with the job's files) and device.
void read_rag(const Reader& reader, const YAML::Node& node, bool check_env, rag::RagConfig& out) {
  if (!node) return;
  out.method = reader.get<std::string>(node, "rag.method");
  out.chunk_size = reader.get<int32_t>(node, "rag.chunk_size");
  require_positive(reader, node, "chunk_size", "rag.chunk_size", out.chunk_size);
  out.overlap = reader.get<int32_t>(node, "rag.overlap");
  require_positive(reader, node, "overlap", "rag.overlap", out.overlap, true);
  if (out.overlap >= out.chunk_size)
    reader.fail(node["overlap"], "rag.overlap", fmt::format("a value below rag.chunk_size ({})", out.chunk_size));
  out.num_chunks = reader.get<int32_t>(node, "rag.num_chunks");
  require_positive(reader, node, "num_chunks", "rag.num_chunks", out.num_chunks);
  out.order = reader.get<std::string>(node, "rag.order");
  const auto text = [&](const char* leaf) { return node[leaf] ? node[leaf].Scalar() : std::string(); };
  out.base_url = text("base_url");
  out.model = text("model");
  out.api_key_env = text("api_key_env");
  out.timeout_s = reader.get<double>(node, "rag.timeout_s");
  require_positive(reader, node, "timeout_s", "rag.timeout_s", out.timeout_s);
  out.max_retries = reader.get<int32_t>(node, "rag.max_retries");
  require_positive(reader, node, "max_retries", "rag.max_retries", out.max_retries, true);
  out.batch_size = reader.get<int32_t>(node, "rag.batch_size");
  require_positive(reader, node, "batch_size", "rag.batch_size", out.batch_size);
  out.device = reader.get<std::string>(node, "rag.device");
  out.query_instruction = reader.get<std::string>(node, "rag.query_instruction");
  if (out.method != "llamaindex") {
    for (const char* leaf : {"query_instruction", "chunk_tokenizer"}) {
      if (node[leaf]) reader.fail(node[leaf], std::string("rag.") + leaf, "set only with rag.method: llamaindex");
    }
  }
  // llamaindex with base_url: LlamaIndex's chunks, the endpoint's embeddings (checked below as for embedding).
  const bool llamaindex_endpoint = out.method == "llamaindex" && node["base_url"];
  if (llamaindex_endpoint) {
    for (const char* leaf : {"query_instruction", "device"}) {
      if (node[leaf])
        reader.fail(node[leaf], std::string("rag.") + leaf,
                    "set only with a local encoder (rag.method llamaindex without rag.base_url)");
    }
    if (!node["chunk_tokenizer"])
      reader.fail(node["base_url"], "rag.chunk_tokenizer",
                  "with rag.method llamaindex and rag.base_url, a directory whose tokenizer.json counts the chunks' "
                  "tokens");
    read_chunk_tokenizer(reader, node, check_env, out);
  } else if (out.method == "contriever" || out.method == "llamaindex") {
    for (const char* leaf : {"base_url", "api_key_env", "timeout_s", "max_retries", "batch_size"}) {
      if (node[leaf]) reader.fail(node[leaf], std::string("rag.") + leaf, "set only with rag.method: embedding");
    }
    if (out.model.empty())
      reader.fail(node["method"], "rag.model",
                  "with rag.method " + out.method + ", the encoder's directory (config.json, model.safetensors, "
                  "tokenizer.json; e.g. a copy of " +
                      (out.method == "contriever" ? "facebook/contriever" : "BAAI/bge-small-en-v1.5") + ")");
    const std::filesystem::path dir = reader.input_path(out.model);
    out.model = dir.string();
    if (check_env) {
      for (const char* file : {"config.json", "tokenizer.json"}) {
        if (!std::filesystem::is_regular_file(dir / file))
          reader.fail(node["model"], "rag.model",
                      "the encoder's directory holding config.json, model.safetensors and tokenizer.json; " +
                          (dir / file).string() + " is missing");
      }
    }
    read_chunk_tokenizer(reader, node, check_env, out);
    if (!std::regex_match(out.device, std::regex("cpu|cuda(:[0-9]+)?")))
      reader.fail(node["device"], "rag.device", "cpu, cuda or cuda:N, got '" + out.device + "'");
    return;
  }
  if (node["device"]) reader.fail(node["device"], "rag.device", "set only with rag.method: contriever or llamaindex");
  if (out.method != "embedding" && !llamaindex_endpoint) {
    for (const char* leaf : {"base_url", "model", "api_key_env", "timeout_s", "max_retries", "batch_size"}) {
      if (node[leaf])
        reader.fail(node[leaf], std::string("rag.") + leaf,
                    std::string("set only with rag.method: embedding") +
                        (std::string(leaf) == "model" ? ", contriever or llamaindex" : ""));
    }
    return;
  }
  const YAML::Node at_url = node["base_url"] ? node["base_url"] : node["method"];
  if (out.base_url.rfind("http://", 0) != 0 && out.base_url.rfind("https://", 0) != 0) {
    reader.fail(at_url, "rag.base_url",
                "the embedding API's base URL starting with http:// or https:// (e.g. "
                "http://127.0.0.1:8000/v1), got '" + out.base_url + "'");
  }
  if (check_env && !out.api_key_env.empty() && !std::getenv(out.api_key_env.c_str())) {
    reader.fail(node["api_key_env"], "rag.api_key_env",
                "the name of a set environment variable holding the API key; " + out.api_key_env + " is not set");
  }
}

// judge: (docs/judge.md): the endpoint, its model and key variable (set when the job is checked with its files),
// limits, and the judged metrics by name; judge.nli: L-CiteEval's NLI endpoint, or a local NLI model directory
// (judge.nli.model without base_url; alone, or beside the chat judge).
void read_judge(const Reader& reader, const YAML::Node& node, bool check_env, metrics::judge::JudgeConfig& out) {
  if (!node) return;
  const auto text = [&](const char* leaf) { return node[leaf] ? node[leaf].Scalar() : std::string(); };
  out.base_url = text("base_url");
  out.model = text("model");
  out.api_key_env = text("api_key_env");
  out.max_concurrency = reader.get<int32_t>(node, "judge.max_concurrency");
  require_positive(reader, node, "max_concurrency", "judge.max_concurrency", out.max_concurrency);
  out.timeout_s = reader.get<double>(node, "judge.timeout_s");
  require_positive(reader, node, "timeout_s", "judge.timeout_s", out.timeout_s);
  out.max_retries = reader.get<int32_t>(node, "judge.max_retries");
  require_positive(reader, node, "max_retries", "judge.max_retries", out.max_retries, true);
  if (node["metrics"]) {
    out.metrics = reader.strings(node["metrics"]);
    const std::vector<std::string> known = metrics::judged::judged_metric_names();
    for (const std::string& name : out.metrics) {
      if (std::find(known.begin(), known.end(), name) == known.end())
        reader.fail(node["metrics"], "judge.metrics",
                    fmt::format("judged metric names ({}), got '{}'{}", fmt::join(known, ", "), name,
                                did_you_mean(name, known)));
    }
  }
  if (const YAML::Node nli = node["nli"]) {
    out.nli.base_url = nli["base_url"] ? nli["base_url"].Scalar() : std::string();
    out.nli.model = nli["model"] ? nli["model"].Scalar() : std::string();
    out.nli.api_key_env = nli["api_key_env"] ? nli["api_key_env"].Scalar() : std::string();
    if (!nli["base_url"]) {
      // A local classifier: judge.nli.model is its directory, relative to the job file; its name is stored.
      if (out.nli.model.empty())
        reader.fail(nli["model"] ? nli["model"] : nli, "judge.nli.model",
                    "a local NLI model directory (config.json, model.safetensors, spm.model; upstream's "
                    "tasksource/deberta-base-long-nli), or judge.nli.base_url with the endpoint model's name");
      const std::filesystem::path dir = reader.input_path(out.nli.model);
      out.nli.model_dir = dir.string();
      out.nli.model = dir.filename().string();
      if (check_env) {
        for (const char* file : {"config.json", "spm.model"}) {
          if (!std::filesystem::is_regular_file(dir / file))
            reader.fail(nli["model"], "judge.nli.model",
                        "a local NLI model directory holding config.json, model.safetensors and spm.model; " +
                            (dir / file).string() + " is missing");
        }
      }
      if (nli["api_key_env"])
        reader.fail(nli["api_key_env"], "judge.nli.api_key_env", "set only with judge.nli.base_url (an endpoint)");
      if (nli["device"]) out.nli.device = nli["device"].Scalar();
      if (!std::regex_match(out.nli.device, std::regex("cpu|cuda(:[0-9]+)?")))
        reader.fail(nli["device"], "judge.nli.device", "cpu, cuda or cuda:N, got '" + out.nli.device + "'");
    } else {
      if (nli["device"])
        reader.fail(nli["device"], "judge.nli.device",
                    "set only with a local model (judge.nli.model without judge.nli.base_url)");
      if (out.nli.base_url.rfind("http://", 0) != 0 && out.nli.base_url.rfind("https://", 0) != 0)
        reader.fail(nli["base_url"], "judge.nli.base_url",
                    "the NLI API's base URL starting with http:// or https:// (e.g. http://127.0.0.1:8001/v1), got '" +
                        out.nli.base_url + "'");
      if (out.nli.model.empty())
        reader.fail(nli["model"] ? nli["model"] : nli, "judge.nli.model",
                    "the NLI model's name (sent with each request and stored with each answer)");
      if (check_env && !out.nli.api_key_env.empty() && !std::getenv(out.nli.api_key_env.c_str()))
        reader.fail(nli["api_key_env"], "judge.nli.api_key_env",
                    "the name of a set environment variable holding the API key; " + out.nli.api_key_env +
                        " is not set");
    }
    if (!node["base_url"] && !node["model"]) return;  // only the NLI model or endpoint
  }
  if (out.base_url.rfind("http://", 0) != 0 && out.base_url.rfind("https://", 0) != 0) {
    reader.fail(node["base_url"] ? node["base_url"] : node, "judge.base_url",
                "the judge API's base URL starting with http:// or https:// (e.g. http://127.0.0.1:8000/v1), got '" +
                    out.base_url + "'");
  }
  if (out.model.empty())
    reader.fail(node["model"] ? node["model"] : node, "judge.model",
                "the judge model's name (sent with each request and stored with each verdict)");
  if (check_env && !out.api_key_env.empty() && !std::getenv(out.api_key_env.c_str())) {
    reader.fail(node["api_key_env"], "judge.api_key_env",
                "the name of a set environment variable holding the API key; " + out.api_key_env + " is not set");
  }
}

}  // namespace loom::scheduler::job_reader
