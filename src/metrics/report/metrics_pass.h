// The metrics pass over a results file (end of every run, and `loom_mpi report`): reads every row (journal
// included), scores it with the scorers named in its `metric` column (loom::metrics::make_scorer), aggregates
// (aggregation.h), writes the JSON summary next to the file (run.h5 → run.json) and the /metrics group into it
// (atomic rewrite; skipped with a note when a running job holds the file), writes the HTML report next to it
// (run.h5 → run.html, html_report.h) unless told not to, and prints the tables (with the method × ratio pivot of a
// sweep) and failures, or one export (report_exports.h) instead. Judged metrics come from the verdicts stored with
// the file (results/verdicts.h); the pass folds the verdict journal into /judge when it rewrites the file.
#pragma once

#include "metrics/report/aggregation.h"
#include "metrics/report/html_report.h"
#include "metrics/report/report_exports.h"
#include "metrics/report/report_tables.h"
#include "metrics/report/row_scoring.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <optional>
#include <ostream>

namespace loom::metrics::report {

struct MetricsPassOptions {
  TableView view = TableView::all;
  bool print_json = false;   // print the JSON summary instead of the tables
  bool write_files = true;   // write <file>.json and /metrics
  bool write_html = true;    // write the HTML report (to html_path, else next to the results: <file>.html)
  std::filesystem::path html_path;
  std::optional<ExportFormat> export_format;  // print this export instead of the tables
  // Judged metrics (docs/judge.md): whether a judge was configured, whose verdicts count (empty: the one model the
  // stored verdicts name) and which judged metrics to report (empty: all that apply).
  bool judge_configured = false;
  std::string judge_model;
  std::vector<std::string> judge_metrics;
  // L-CiteEval's citation metrics (row_citation.h): whether an NLI endpoint was configured, whose answers count.
  bool nli_configured = false;
  std::string nli_model;
};

struct MetricsPassResult {
  Summary summary;
  nlohmann::json json;
  std::filesystem::path json_path;
  bool wrote_metrics_group = false;
  std::filesystem::path html_path;  // empty when no HTML report was written
};

// Reads and scores every row of a results file and aggregates it, with the run's identity (for `compare`).
ReportRun score_results_file(const std::filesystem::path& results_path, const ScorerFactory& scorers);
ReportRun score_results_file(const std::filesystem::path& results_path);

std::filesystem::path summary_path_for(const std::filesystem::path& results_path);

MetricsPassResult run_metrics_pass(const std::filesystem::path& results_path, std::ostream& out);
MetricsPassResult run_metrics_pass(const std::filesystem::path& results_path, std::ostream& out,
                                   const MetricsPassOptions& options);
// The same with another scorer source (tests use test doubles).
MetricsPassResult run_metrics_pass(const std::filesystem::path& results_path, std::ostream& out,
                                   const MetricsPassOptions& options, const ScorerFactory& scorers);

}  // namespace loom::metrics::report
