// What one (sample, method) cost: ONE record that the engine fills (model::InferenceResult::cost) and that is carried
// unchanged through protocol::WorkOutcome, results::ResultRow and the report's ScoredRow. Its columns are declared
// once, in cost_columns() (sample_cost.cpp): name, type, unit, description and how the report summarises it per
// method. That table drives the protocol's serialization (serialize below), the journal codec, the HDF5 /samples
// columns and the report's cost figures (table, JSON summary, /metrics/method_costs).
// Adding a cost figure: a field here, a row in cost_columns(), and the engine filling it (docs/architecture.md,
// "Cost record").
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace loom {

struct SampleCost {
  int64_t input_tokens = 0;            // prompt tokens after truncation
  int64_t output_tokens = 0;           // generated tokens (the follow-up's included)
  double prefill_seconds = 0;          // the prompt's prefill chunks (shared, see prefill_shared_by) + compression
  double decode_seconds = 0;           // the decode steps this request took part in
  int64_t kv_bytes = 0;                // KV-cache bytes held after prefill (after compression)
  int64_t peak_memory_bytes = 0;       // peak device memory while it ran (CPU: peak RSS growth estimate)
  double prefill_block_density = 1.0;  // sparse prefill: fraction of causal attention blocks computed (1: dense)
  int32_t prefill_shared_by = 1;       // requests that shared this prompt's prefill (a sweep's methods; 1: alone)

  template <class Archive>
  void serialize(Archive& ar, unsigned /*version*/);
};

// How the report summarises a column over one method's rows that generated.
enum class CostAggregation {
  none,             // not a figure of its own (a denominator of others)
  mean,             // mean per row
  max,              // max over the rows
  per_input_token,  // Σ value / Σ input_tokens
  per_decode_step,  // Σ value / Σ (output_tokens - 1), over rows with at least 2 output tokens
};

// The report's figure for one column (aggregation none: the column has no figure).
struct CostFigure {
  CostAggregation aggregation = CostAggregation::none;
  std::string name;           // key in the JSON summary's methods.<m>.cost and column of /metrics/method_costs
  double scale = 1;           // figure = aggregate × scale (1000: seconds per step -> milliseconds per token)
  bool integer = false;       // stored as an integer (JSON, /metrics)
  std::string label;          // row of the text cost table
  double display_divisor = 1;  // the text table shows figure / display_divisor ...
  int precision = 3;           // ... with this many decimals
  std::string vs_full_name;   // non-empty: also the figure over that of the method labelled "full" (0: none)
  std::string vs_full_label;  // its text row, printed only when a method "full" exists
};

using CostField = std::variant<int64_t SampleCost::*, int32_t SampleCost::*, double SampleCost::*>;

struct CostColumn {
  std::string name;         // HDF5 /samples column, journal and generate-JSON key
  CostField field;          // its type: int32 and int64 are stored as int64, double as float64
  std::string unit;         // "tokens", "seconds", "bytes", "fraction", "requests"
  std::string description;  // one line for docs/results.md
  CostFigure figure;        // how the report summarises it
};

// Every column, in SampleCost's order. The order is the wire order (protocol) and the HDF5 column order.
const std::vector<CostColumn>& cost_columns();

// A column's value as a double / an integer (whatever its type).
double cost_value(const SampleCost& cost, const CostField& field);
int64_t cost_integer(const SampleCost& cost, const CostField& field);
bool is_integer(const CostField& field);
// Sets a column from a stored value (an integer column rounds a double).
void set_cost_value(SampleCost& cost, const CostField& field, double value);
void set_cost_integer(SampleCost& cost, const CostField& field, int64_t value);

template <class Archive>
void SampleCost::serialize(Archive& ar, unsigned /*version*/) {
  for (const CostColumn& column : cost_columns()) std::visit([&](auto member) { ar & (this->*member); }, column.field);
}

}  // namespace loom
