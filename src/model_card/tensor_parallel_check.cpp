#include "model_card/tensor_parallel_check.h"

#include "common/error.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace loom::parallel {

HeadCounts head_counts(const model::ModelCard& card) { return HeadCounts{card.num_heads, card.num_kv_heads}; }

std::vector<int> valid_tensor_parallel_sizes(const HeadCounts& counts) {
  std::vector<int> sizes;
  for (long long tp = 1; tp <= counts.kv_heads; ++tp) {
    if (counts.heads % tp == 0 && counts.kv_heads % tp == 0) sizes.push_back(static_cast<int>(tp));
  }
  return sizes;
}

void check_tensor_parallel(int tensor_parallel, int world_size, const HeadCounts& counts, const std::string& job_file,
                           const std::string& config_file) {
  const char* key = "parallel.tensor_parallel";
  if (tensor_parallel < 1) {
    throw InputError(job_file, 0, key, fmt::format("a positive integer; got {}", tensor_parallel));
  }
  if (world_size % tensor_parallel != 0) {
    throw InputError(job_file, 0, key,
                     fmt::format("a divisor of the number of ranks ({}); got {}", world_size, tensor_parallel));
  }
  if (counts.heads % tensor_parallel != 0 || counts.kv_heads % tensor_parallel != 0) {
    throw InputError(job_file, 0, key,
                     fmt::format("a divisor of the model's num_attention_heads ({}) and num_key_value_heads ({}) "
                                 "in {}, one of [{}]; got {}",
                                 counts.heads, counts.kv_heads, config_file,
                                 fmt::join(valid_tensor_parallel_sizes(counts), ", "), tensor_parallel));
  }
}

}  // namespace loom::parallel
