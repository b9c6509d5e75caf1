// Files some kvpress presses read besides the model: QFilterPress's trained filters and DuoAttentionPress's
// attention pattern. Both are named by a method parameter (a path, absolute or relative to the working directory);
// a missing or malformed file is a loom::InputError naming the parameter and the file.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <string>

namespace loom::accel {

// kvpress QFilters.save_pretrained / the nthngdy/<model>_qfilt hub repos: a safetensors file whose tensor
// "q_filters" is [num_layers, num_kv_heads, head_dim] (a directory means its model.safetensors). float32, CPU.
at::Tensor load_q_filters(const std::string& path);

// DuoAttention's published pattern (mit-han-lab/duo-attention attn_patterns/<model>/<run>/): config.json with
// sink_size and recent_size, full_attention_heads.tsv with one row per layer and one tab-separated score per KV
// head. Scores are clipped to [0, 1] as kvpress (and duo_attn.utils.load_attn_pattern) do.
struct DuoPattern {
  int64_t sink_size = 0;
  int64_t recent_size = 0;
  at::Tensor head_scores;  // [num_layers, num_kv_heads] float64, CPU
};
DuoPattern load_duo_pattern(const std::string& directory);

}  // namespace loom::accel
