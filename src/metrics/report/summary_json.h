// The JSON summary written next to the results file (<file>.json): per method, the overall score, length
// buckets, capabilities, benchmarks with their tasks (per metric and per length column, and the official score
// where the scorers carry an official aggregation), and the failures.
// Scores are percentages (0–100). Layout: docs/results.md.
#pragma once

#include "metrics/report/aggregation.h"

#include <nlohmann/json.hpp>

#include <string>

namespace loom::metrics::report {

nlohmann::json summary_to_json(const Summary& summary, const std::string& results_file);

}  // namespace loom::metrics::report
