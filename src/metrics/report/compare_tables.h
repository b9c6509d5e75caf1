// `loom_mpi compare`'s terminal table: two or more runs side by side, one row per (run, method) with its overall
// score, each capability and benchmark score (percent), and KV bytes × full and decode ms/token where present.
// Columns absent from a run stay empty. The HTML side of a comparison is html_report.h with several runs.
#pragma once

#include "metrics/report/html_report.h"

#include <ostream>
#include <vector>

namespace loom::metrics::report {

void print_comparison(const std::vector<ReportRun>& runs, std::ostream& out);

// Distinct labels for the runs: each file's stem, with its position appended where stems repeat.
std::vector<std::string> comparison_labels(const std::vector<std::string>& results_files);

}  // namespace loom::metrics::report
