// The metrics pass over a results file (end of every run, and `loom_mpi report`): reads every row (journal
// included), scores it with the scorers named in its `metric` column (loom::metrics::make_scorer), aggregates
// (aggregation.h), writes the JSON summary next to the file (run.h5 → run.json) and the /metrics group into it
// (atomic rewrite; skipped with a note when a running job holds the file), and prints the tables and failures.
#pragma once

#include "metrics/report/aggregation.h"
#include "metrics/report/report_tables.h"
#include "metrics/report/row_scoring.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <ostream>

namespace loom::metrics::report {

struct MetricsPassOptions {
  TableView view = TableView::all;
  bool print_json = false;   // print the JSON summary instead of the tables
  bool write_files = true;   // write <file>.json and /metrics
};

struct MetricsPassResult {
  Summary summary;
  nlohmann::json json;
  std::filesystem::path json_path;
  bool wrote_metrics_group = false;
};

std::filesystem::path summary_path_for(const std::filesystem::path& results_path);

MetricsPassResult run_metrics_pass(const std::filesystem::path& results_path, std::ostream& out);
MetricsPassResult run_metrics_pass(const std::filesystem::path& results_path, std::ostream& out,
                                   const MetricsPassOptions& options);
// The same with another scorer source (tests use test doubles).
MetricsPassResult run_metrics_pass(const std::filesystem::path& results_path, std::ostream& out,
                                   const MetricsPassOptions& options, const ScorerFactory& scorers);

}  // namespace loom::metrics::report
