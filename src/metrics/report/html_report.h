// The self-contained HTML report of one run (`loom_mpi report --html`, and run.html next to every run's results)
// or of several side by side (`loom_mpi compare`). The file embeds Chart.js (report_assets.h), the page's script
// and style, and the data as one JSON block (report_data); the page's script draws every table and chart from it
// in the browser, offline. With several runs each method is shown as "<run label>: <method>".
// Data layout and the charts drawn: docs/report.md.
#pragma once

#include "metrics/report/aggregation.h"
#include "metrics/report/run_identity.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace loom::metrics::report {

struct ReportRun {
  std::string label;  // the run's name in a comparison (unused for a single run)
  RunIdentity identity;
  Summary summary;
};

// The page's data: runs (identity), methods (scores, capabilities, cost, sweep point), tasks (task × length),
// curves (score vs target length per benchmark), heatmaps (NIAH depth × length), cost figures and failures.
nlohmann::json report_data(const std::vector<ReportRun>& runs);

std::string render_html_report(const std::vector<ReportRun>& runs, const std::string& title);

// Writes the page atomically (a temporary file renamed over `path`); throws loom::Error naming the file.
void write_html_report(const std::filesystem::path& path, const std::vector<ReportRun>& runs,
                       const std::string& title);

// run.h5 -> run.html
std::filesystem::path html_path_for(const std::filesystem::path& results_path);

}  // namespace loom::metrics::report
