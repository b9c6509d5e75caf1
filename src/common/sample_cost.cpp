#include "common/sample_cost.h"

#include <cmath>
#include <type_traits>
#include <utility>

namespace loom {
namespace {

CostFigure figure(CostAggregation aggregation, std::string name, double scale, bool integer, std::string label,
                  double display_divisor, int precision, std::string vs_full_name = {},
                  std::string vs_full_label = {}) {
  return CostFigure{aggregation, std::move(name), scale, integer, std::move(label), display_divisor, precision,
                    std::move(vs_full_name), std::move(vs_full_label)};
}

}  // namespace

const std::vector<CostColumn>& cost_columns() {
  using A = CostAggregation;
  static const std::vector<CostColumn> columns = {
      {"input_tokens", &SampleCost::input_tokens, "tokens", "prompt tokens after truncation", {}},
      {"output_tokens", &SampleCost::output_tokens, "tokens", "generated tokens (with the follow-up's)", {}},
      {"prefill_seconds", &SampleCost::prefill_seconds, "seconds",
       "the prompt's prefill chunks (shared by prefill_shared_by requests) + this method's compression",
       figure(A::mean, "prefill_seconds", 1, false, "prefill s (mean)", 1, 3)},
      {"decode_seconds", &SampleCost::decode_seconds, "seconds",
       "the decode steps this request took part in (others' prefill chunks excluded)",
       figure(A::per_decode_step, "decode_ms_per_token", 1000, false, "decode ms/token", 1, 2)},
      {"kv_bytes", &SampleCost::kv_bytes, "bytes", "KV-cache bytes held after prefill (after compression)",
       figure(A::per_input_token, "kv_bytes_per_token", 1, false, "KV KiB per prompt token", 1024, 2, "kv_vs_full",
        "KV x full")},
      {"peak_memory_bytes", &SampleCost::peak_memory_bytes, "bytes",
       "peak device memory while it ran, weights included (CPU: peak RSS growth estimate)",
       figure(A::max, "peak_memory_bytes", 1, true, "peak GiB (max)", 1073741824.0, 2)},
      {"prefill_block_density", &SampleCost::prefill_block_density, "fraction",
       "sparse prefill: fraction of causal attention blocks computed (1: dense)",
       figure(A::mean, "prefill_block_density", 1, false, "prefill block density", 1, 3)},
      {"prefill_shared_by", &SampleCost::prefill_shared_by, "requests",
       "requests that shared this prompt's prefill (a sweep's methods in one batch; 1: alone)",
       figure(A::mean, "prefill_shared_by", 1, false, "prefill shared by", 1, 2)},
  };
  return columns;
}

double cost_value(const SampleCost& cost, const CostField& field) {
  return std::visit([&](auto member) { return static_cast<double>(cost.*member); }, field);
}

int64_t cost_integer(const SampleCost& cost, const CostField& field) {
  return std::visit([&](auto member) { return static_cast<int64_t>(cost.*member); }, field);
}

bool is_integer(const CostField& field) {
  return !std::holds_alternative<double SampleCost::*>(field);
}

void set_cost_value(SampleCost& cost, const CostField& field, double value) {
  std::visit(
      [&](auto member) {
        using Value = std::remove_reference_t<decltype(cost.*member)>;
        if constexpr (std::is_floating_point_v<Value>) cost.*member = static_cast<Value>(value);
        else cost.*member = static_cast<Value>(std::llround(value));
      },
      field);
}

void set_cost_integer(SampleCost& cost, const CostField& field, int64_t value) {
  std::visit([&](auto member) { cost.*member = static_cast<std::remove_reference_t<decltype(cost.*member)>>(value); },
             field);
}

}  // namespace loom
