#include "rank/parallel/tensor_parallel_check.h"

#include "common/error.h"
#include "common/json_errors.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include <fstream>

namespace loom::parallel {

namespace {

long long head_field(const nlohmann::json& config, const char* key, const std::string& file) {
  const auto it = config.find(key);
  if (it == config.end() || !it->is_number_integer() || it->get<long long>() <= 0) {
    throw InputError(file, 0, key, "a positive integer");
  }
  return it->get<long long>();
}

}  // namespace

HeadCounts read_head_counts(const std::filesystem::path& model_dir) {
  const std::string file = (model_dir / "config.json").string();
  std::ifstream in(file);
  if (!in) throw InputError(file, 0, "", "cannot open the model's config.json");
  nlohmann::json config;
  try {
    config = nlohmann::json::parse(in);
  } catch (const nlohmann::json::parse_error& e) {
    throw json_syntax_error(file, e);
  }
  HeadCounts counts;
  counts.heads = head_field(config, "num_attention_heads", file);
  counts.kv_heads = config.contains("num_key_value_heads") ? head_field(config, "num_key_value_heads", file)
                                                           : counts.heads;
  return counts;
}

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
