// Side files of the Q-filter and DuoAttention methods (see method_files.h).
#include "rank/accel/method_files.h"

#include "common/error.h"
#include "rank/model/safetensors_file.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

namespace loom::accel {

at::Tensor load_q_filters(const std::string& path) {
  std::filesystem::path file(path);
  if (std::filesystem::is_directory(file)) file /= "model.safetensors";
  if (!std::filesystem::is_regular_file(file)) {
    throw InputError(file.string(), 0, "params.filters_path",
                     "a Q-filters safetensors file (or a directory holding model.safetensors); none found");
  }
  const model::SafetensorsFile st(file);
  const model::SafetensorsEntry* entry = st.find("q_filters");
  if (entry == nullptr || entry->shape.size() != 3) {
    throw InputError(file.string(), 0, "params.filters_path",
                     "a tensor q_filters of shape [num_layers, num_kv_heads, head_dim]");
  }
  return st.load("q_filters", at::kFloat, at::kCPU);
}

DuoPattern load_duo_pattern(const std::string& directory) {
  const std::filesystem::path dir(directory);
  const std::filesystem::path config_path = dir / "config.json";
  const std::filesystem::path tsv_path = dir / "full_attention_heads.tsv";
  DuoPattern pattern;
  std::ifstream config_in(config_path);
  if (!config_in) {
    throw InputError(config_path.string(), 0, "params.pattern_path",
                     "a DuoAttention pattern directory with config.json and full_attention_heads.tsv");
  }
  try {
    const nlohmann::json config = nlohmann::json::parse(config_in);
    pattern.sink_size = config.at("sink_size").get<int64_t>();
    pattern.recent_size = config.at("recent_size").get<int64_t>();
  } catch (const nlohmann::json::exception& e) {
    throw InputError(config_path.string(), 0, "sink_size",
                     std::string("JSON with integer sink_size and recent_size (") + e.what() + ")");
  }
  if (pattern.sink_size < 0 || pattern.recent_size < 0) {
    throw InputError(config_path.string(), 0, "sink_size", "non-negative sink_size and recent_size");
  }
  std::ifstream tsv(tsv_path);
  if (!tsv) throw InputError(tsv_path.string(), 0, "params.pattern_path", "a readable full_attention_heads.tsv");
  std::vector<double> values;
  int64_t rows = 0, columns = -1;
  std::string line;
  int line_number = 0;
  while (std::getline(tsv, line)) {
    ++line_number;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    std::stringstream cells(line);
    std::string cell;
    int64_t count = 0;
    while (std::getline(cells, cell, '\t')) {
      try {
        size_t used = 0;
        const double v = std::stod(cell, &used);
        if (cell.find_first_not_of(" \r", used) != std::string::npos) throw std::invalid_argument(cell);
        values.push_back(std::min(1.0, std::max(0.0, v)));  // clipped as kvpress
      } catch (const std::exception&) {
        throw InputError(tsv_path.string(), line_number, "", "tab-separated numbers, got '" + cell + "'");
      }
      ++count;
    }
    if (columns >= 0 && count != columns) {
      throw InputError(tsv_path.string(), line_number, "",
                       "one score per KV head on every line (" + std::to_string(columns) + "), got " +
                           std::to_string(count));
    }
    columns = count;
    ++rows;
  }
  if (rows == 0) throw InputError(tsv_path.string(), 0, "", "one line of head scores per layer; the file is empty");
  pattern.head_scores = at::tensor(values, at::kDouble).reshape({rows, columns});
  return pattern;
}

}  // namespace loom::accel
