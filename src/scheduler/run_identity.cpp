#include "scheduler/run_identity.h"

#include "common/error.h"
#include "model_card/model_card.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>
#include <openssl/evp.h>

#include <algorithm>
#include <fstream>
#include <iterator>

#ifndef LOOM_MPI_VERSION
#define LOOM_MPI_VERSION "unknown"
#endif

namespace loom::scheduler {

namespace fs = std::filesystem;

namespace {

std::string read_bytes(const fs::path& path, std::size_t limit = std::string::npos) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  std::string bytes;
  if (limit == std::string::npos) {
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  } else {
    bytes.resize(limit);
    in.read(bytes.data(), static_cast<std::streamsize>(limit));
    bytes.resize(static_cast<std::size_t>(in.gcount()));
  }
  return bytes;
}

// A safetensors file's identity: name, size and its JSON header (tensor names, dtypes, shapes, offsets).
std::string safetensors_identity(const fs::path& path) {
  const std::string prefix = read_bytes(path, 8);
  uint64_t header_size = 0;
  for (std::size_t i = 0; i < prefix.size(); ++i)
    header_size |= static_cast<uint64_t>(static_cast<uint8_t>(prefix[i])) << (8 * i);
  constexpr uint64_t kMaxHeader = 100u << 20;
  const std::string head = read_bytes(path, static_cast<std::size_t>(8 + std::min(header_size, kMaxHeader)));
  return fmt::format("{} {} {}", path.filename().string(), fs::file_size(path), short_hash(head));
}

void append_file(std::string& identity, const fs::path& path) {
  identity += path.filename().string();
  identity += '\0';
  identity += short_hash(read_bytes(path));
  identity += '\0';
}

std::string join_ints(const std::vector<int32_t>& values) {
  return fmt::format("{}", fmt::join(values, ","));
}

}  // namespace

std::string short_hash(const std::string& bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  LOOM_CHECK(EVP_Digest(bytes.data(), bytes.size(), digest, &length, EVP_sha256(), nullptr) == 1,
             "SHA-256 failed");
  std::string hex;
  for (unsigned i = 0; i < 8 && i < length; ++i) hex += fmt::format("{:02x}", digest[i]);
  return hex;
}

RunIdentity RunIdentity::of_job(const JobConfig& job) {
  RunIdentity identity;
  if (!fs::is_regular_file(model::config_path(job.model.path)))
    throw InputError(job.source_file.string(), 0, "model.path", "a model directory with config.json");

  std::vector<fs::path> weights;
  std::vector<fs::path> tokenizer_files;
  for (const auto& entry : fs::directory_iterator(job.model.path)) {
    if (!entry.is_regular_file()) continue;
    const std::string name = entry.path().filename().string();
    if (entry.path().extension() == ".safetensors") weights.push_back(entry.path());
    if (name == "tokenizer.json" || name == "tokenizer.model" || name == "tokenizer_config.json" ||
        name == "special_tokens_map.json" || name.rfind("chat_template", 0) == 0)
      tokenizer_files.push_back(entry.path());
  }
  std::sort(weights.begin(), weights.end());
  std::sort(tokenizer_files.begin(), tokenizer_files.end());

  const std::string config_hash = short_hash(model::read_config_text(job.model.path));
  std::string model = "config.json " + config_hash + "\n";
  uint64_t weight_bytes = 0;
  for (const fs::path& file : weights) {
    model += safetensors_identity(file) + "\n";
    weight_bytes += fs::file_size(file);
  }
  model += "dtype " + job.model.dtype;
  // backend openai: the rows come from a server's model, named by model.model (not base_url, which may move).
  // Local rows keep the identity they had, so files written before resume as they did.
  const bool api = job.model.backend == "openai";
  if (api) model += "\nbackend openai model " + job.model.api_model;
  identity.model_ = short_hash(model);
  const std::string model_name = fs::weakly_canonical(job.model.path).filename().string();
  identity.descriptions_["model=" + identity.model_] =
      fmt::format("{} (config.json {}, {} safetensors file(s) of {} bytes, dtype {}){}", model_name, config_hash,
                  weights.size(), weight_bytes, job.model.dtype,
                  api ? fmt::format(", through an OpenAI API (model '{}')", job.model.api_model) : "");

  std::string tokenizer;
  std::vector<std::string> names;
  for (const fs::path& file : tokenizer_files) {
    append_file(tokenizer, file);
    names.push_back(file.filename().string());
  }
  tokenizer += "chat_template " + job.model.chat_template + "\nenable_thinking " +
               (job.model.enable_thinking ? "true" : "false");
  identity.tokenizer_ = short_hash(tokenizer);
  identity.descriptions_["tokenizer=" + identity.tokenizer_] =
      fmt::format("{} of {}, chat_template {}, enable_thinking {}", fmt::join(names, ", "), model_name,
                  job.model.chat_template.empty() ? "(the model's)" : job.model.chat_template,
                  job.model.enable_thinking);

  identity.version_ = LOOM_MPI_VERSION;
  identity.descriptions_["version=" + identity.version_] = "loom_mpi " + identity.version_;
  return identity;
}

std::string RunIdentity::prompt_hash(const std::vector<int32_t>& input_ids, const std::vector<int32_t>& followup_ids,
                                     const std::string& followup_prefix, const std::string& followup_suffix,
                                     const std::string& references_json, const std::string& metadata_json,
                                     const std::string& chain) {
  std::string bytes(reinterpret_cast<const char*>(input_ids.data()), input_ids.size() * sizeof(int32_t));
  bytes += '\0' + join_ints(followup_ids) + '\0' + followup_prefix + '\0' + followup_suffix + '\0' +
           references_json + '\0' + metadata_json;
  if (!chain.empty()) bytes += std::string("\0chain\0", 7) + chain;
  return short_hash(bytes);
}

std::string RunIdentity::row_fingerprint(const GenerationSettings& g, const MethodSpec& method,
                                         const std::string& prompt_hash) {
  const std::string generation = fmt::format(
      "max_new_tokens={}, do_sample={}, temperature={}, top_p={}, top_k={}, seed={}, stop_strings={}, "
      "eos_token_ids=[{}], ignore_eos={}",
      g.max_new_tokens, g.do_sample, g.temperature, g.top_p, g.top_k, g.seed, nlohmann::json(g.stop_strings).dump(),
      join_ints(g.eos_token_ids), g.ignore_eos);
  const std::string method_text = fmt::format("{} {}{}", method.name.empty() ? "full" : method.name, method.params_json,
                                              method.query_aware ? "" : " query_aware=false");
  const std::string generation_hash = short_hash(generation);
  const std::string method_hash = short_hash(method_text);
  descriptions_.emplace("generation=" + generation_hash, generation);
  descriptions_.emplace("method=" + method_hash, method_text);
  return fmt::format("model={};tokenizer={};generation={};prompt={};method={};version={}", model_, tokenizer_,
                     generation_hash, prompt_hash, method_hash, version_);
}

std::map<std::string, std::string> parse_fingerprint(const std::string& fingerprint) {
  std::map<std::string, std::string> parts;
  std::size_t start = 0;
  while (start < fingerprint.size()) {
    std::size_t end = fingerprint.find(';', start);
    if (end == std::string::npos) end = fingerprint.size();
    const std::string item = fingerprint.substr(start, end - start);
    const std::size_t eq = item.find('=');
    if (eq == std::string::npos) return {};
    parts[item.substr(0, eq)] = item.substr(eq + 1);
    start = end + 1;
  }
  return parts;
}

std::vector<std::string> changed_components(const std::string& stored, const std::string& current) {
  const auto old_parts = parse_fingerprint(stored);
  const auto new_parts = parse_fingerprint(current);
  std::vector<std::string> changed;
  for (const char* component : kFingerprintComponents) {
    const auto a = old_parts.find(component);
    const auto b = new_parts.find(component);
    if (a == old_parts.end() || b == new_parts.end() || a->second != b->second) changed.push_back(component);
  }
  return changed;
}

}  // namespace loom::scheduler
