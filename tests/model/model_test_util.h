// Helpers for the engine tests: fixture paths, a minimal safetensors writer (to build corrupted files), and
// the last-position logits of a prompt computed straight through DecoderModel.
#pragma once

#include "rank/model/attention_policy.h"
#include "rank/model/decoder_model.h"
#include "rank/model/safetensors_file.h"
#include "rank/model/sliding_window_cache.h"

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

namespace loom::model::testing {

inline std::filesystem::path fixture_dir(const std::string& name) {
  return std::filesystem::path(LOOM_SOURCE_DIR) / "tests" / "fixtures" / "models" / name;
}

inline const std::vector<std::string>& fixture_names() {
  static const std::vector<std::string> names = {"llama3_tiny", "llama_linear", "llama_dynamic", "qwen2_tiny",
                                                 "qwen2_yarn",  "qwen3_tiny",   "mistral_tiny", "mistral_sliding",
                                                 "qwen2_sliding", "phi3_tiny", "phi3_longrope", "glm_tiny",
                                                 "glm4_tiny",
                                                 "gemma3_text_tiny", "gemma3_tiny", "qwen3_moe_tiny",
                                                 "qwen3_moe_legacy"};
  return names;
}

struct RawTensor {
  std::string dtype;
  std::vector<int64_t> shape;
  std::string bytes;
};

// Writes tensors in safetensors layout (8-byte little-endian header length, JSON header, data).
inline void write_safetensors(const std::filesystem::path& path, const std::map<std::string, RawTensor>& tensors) {
  nlohmann::json header = nlohmann::json::object();
  std::string data;
  for (const auto& [name, t] : tensors) {
    header[name] = {{"dtype", t.dtype}, {"shape", t.shape}, {"data_offsets", {data.size(), data.size() + t.bytes.size()}}};
    data += t.bytes;
  }
  const std::string text = header.dump();
  std::ofstream out(path, std::ios::binary);
  uint64_t length = text.size();
  for (int i = 0; i < 8; ++i) out.put(static_cast<char>((length >> (8 * i)) & 0xff));
  out << text << data;
}

// Every tensor of a safetensors file as raw bytes.
inline std::map<std::string, RawTensor> read_raw(const std::filesystem::path& path) {
  SafetensorsFile file(path);
  std::map<std::string, RawTensor> out;
  for (const auto& [name, entry] : file.entries()) {
    at::Tensor view = file.view(name).contiguous();
    out[name] = RawTensor{entry.dtype, entry.shape,
                          std::string(static_cast<const char*>(view.data_ptr()), entry.end - entry.begin)};
  }
  return out;
}

// Last-position fp32 logits of `ids` through a fresh dense-cache sequence, prefilled in chunks of `chunk`.
inline at::Tensor prompt_logits(DecoderModel& model, const std::vector<int64_t>& ids, int64_t chunk) {
  PolicyContext context;
  context.shape = model.shape();
  context.dtype = model.dtype();
  context.device = model.device();
  SequenceState state;
  state.policy = std::make_unique<FullCachePolicy>(context);
  for (int64_t l = 0; l < model.config().num_layers; ++l) {
    state.caches.push_back(make_layer_cache(model.config(), *state.policy, l));
  }
  state.observations.resize(model.config().num_layers);
  const int64_t n = static_cast<int64_t>(ids.size());
  at::Tensor all = at::tensor(ids, at::kLong), logits;
  for (int64_t begin = 0; begin < n; begin += chunk) {
    const int64_t count = std::min(chunk, n - begin);
    logits = model.forward(all.narrow(0, begin, count), {SequenceSegment{0, count, begin, n, true, &state}},
                           begin + count == n);
  }
  return logits[0];
}

inline std::vector<int64_t> to_vector(const at::Tensor& t) {
  at::Tensor c = t.to(at::kLong).contiguous();
  return std::vector<int64_t>(c.data_ptr<int64_t>(), c.data_ptr<int64_t>() + c.numel());
}

}  // namespace loom::model::testing
