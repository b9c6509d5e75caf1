// Side-file checks of the method catalogue (see method_file_shapes.h).
#include "methods/method_file_shapes.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace loom::methods {

std::string check_q_filters_file(const std::string& path, int64_t layers, int64_t kv_heads, int64_t head_dim) {
  std::filesystem::path file(path);
  std::error_code ec;
  if (std::filesystem::is_directory(file, ec)) file /= "model.safetensors";
  std::ifstream in(file, std::ios::binary);
  if (!in) return fmt::format("a Q-filters safetensors file (or a directory with model.safetensors); {} is not readable",
                              file.string());
  unsigned char size_bytes[8] = {};
  in.read(reinterpret_cast<char*>(size_bytes), 8);
  uint64_t header_size = 0;
  for (int i = 7; i >= 0; --i) header_size = (header_size << 8) | size_bytes[i];
  if (!in || header_size == 0 || header_size > (1u << 26)) return fmt::format("{} is not a safetensors file", file.string());
  std::string header(header_size, '\0');
  in.read(header.data(), static_cast<std::streamsize>(header_size));
  std::vector<int64_t> shape;
  try {
    shape = nlohmann::json::parse(header).at("q_filters").at("shape").get<std::vector<int64_t>>();
  } catch (const nlohmann::json::exception&) {
    return fmt::format("a safetensors file with a tensor q_filters; {} has none", file.string());
  }
  const std::vector<int64_t> wanted = {layers, kv_heads, head_dim};
  for (size_t i = 0; i < wanted.size(); ++i) {
    if (wanted[i] > 0 && (shape.size() != 3 || shape[i] != wanted[i])) {
      return fmt::format("Q-filters of the model, q_filters [{}, {}, {}] (layers, KV heads, head_dim); {} holds {}",
                         layers, kv_heads, head_dim, file.string(), nlohmann::json(shape).dump());
    }
  }
  return "";
}

std::string check_duo_pattern_dir(const std::string& path, int64_t layers, int64_t kv_heads) {
  const std::filesystem::path dir(path);
  std::ifstream config(dir / "config.json");
  std::ifstream tsv(dir / "full_attention_heads.tsv");
  if (!config || !tsv) {
    return fmt::format("a DuoAttention pattern directory with config.json and full_attention_heads.tsv; {} has not "
                       "both",
                       dir.string());
  }
  int64_t rows = 0, columns = -1;
  std::string line;
  while (std::getline(tsv, line)) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    int64_t count = 1;
    for (char c : line) count += c == '\t';
    if (columns >= 0 && count != columns) return fmt::format("{}: the same number of scores on every line", path);
    columns = count;
    ++rows;
  }
  if ((layers > 0 && rows != layers) || (kv_heads > 0 && columns != kv_heads)) {
    return fmt::format("a pattern of the model: {} lines (layers) of {} scores (KV heads); {}/full_attention_heads.tsv "
                       "has {} x {}",
                       layers, kv_heads, dir.string(), rows, columns);
  }
  return "";
}

}  // namespace loom::methods
