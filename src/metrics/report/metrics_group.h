// Writes the /metrics group of the results file from a Summary and the scored rows:
//   /metrics/overall, /metrics/capabilities, /metrics/benchmarks, /metrics/length_buckets, /metrics/tasks,
//   /metrics/task_lengths, /metrics/sample_scores — compound tables (see docs/results.md) — and the attribute
//   summary_json (the JSON summary's text). Scores are percentages.
#pragma once

#include "metrics/report/aggregation.h"

#include <hdf5.h>

#include <string>
#include <vector>

namespace loom::metrics::report {

void write_metrics_group(hid_t file, const Summary& summary, const std::vector<ScoredRow>& rows,
                         const std::string& summary_json);

}  // namespace loom::metrics::report
