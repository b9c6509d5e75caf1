// Torch-free reads of the side files some methods name (qfilter's Q-filters, duo_attention's pattern), so rank 0
// can check them against the model card before any weights load. Each returns a description of what is wrong
// ("" when the file fits); the engine reads the files itself (rank/accel/method_files.h).
#pragma once

#include <cstdint>
#include <string>

namespace loom::methods {

// A safetensors file (or a directory's model.safetensors) whose tensor q_filters is [layers, kv_heads, head_dim].
std::string check_q_filters_file(const std::string& path, int64_t layers, int64_t kv_heads, int64_t head_dim);

// A DuoAttention pattern directory: config.json and a full_attention_heads.tsv of `layers` lines of `kv_heads`
// tab-separated scores.
std::string check_duo_pattern_dir(const std::string& path, int64_t layers, int64_t kv_heads);

}  // namespace loom::methods
