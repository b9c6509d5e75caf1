// `loom_mpi compare A.h5 B.h5 ... [--html FILE]`: two or more results files (two models, or before/after a change)
// side by side: scores every row of each (read only: no file is rewritten), prints one table with a row per
// (run, method), and writes one HTML report with every run's methods as "<run>: <method>" (default compare.html).
#include "metrics/report/compare_tables.h"
#include "metrics/report/metrics_pass.h"

#include <CLI/CLI.hpp>

#include <iostream>
#include <memory>
#include <string>
#include <vector>

namespace {

struct CompareOptions {
  std::vector<std::string> results;
  std::string html = "compare.html";
  bool no_html = false;
};

}  // namespace

void loom_cli_add_compare(CLI::App& app) {
  auto opts = std::make_shared<CompareOptions>();
  CLI::App* cmd = app.add_subcommand("compare", "Compare two or more results files side by side (terminal and HTML)");
  cmd->add_option("results", opts->results, "results files written by jobs (A.h5 B.h5 ...)")
      ->required()
      ->expected(2, -1);
  CLI::Option* html = cmd->add_option("--html", opts->html, "write the HTML comparison to this file")
                           ->capture_default_str();
  html->excludes(cmd->add_flag("--no-html", opts->no_html, "write no HTML comparison"));
  cmd->callback([opts]() {
    const std::vector<std::string> labels = loom::metrics::report::comparison_labels(opts->results);
    std::vector<loom::metrics::report::ReportRun> runs;
    for (size_t i = 0; i < opts->results.size(); ++i) {
      runs.push_back(loom::metrics::report::score_results_file(opts->results[i]));
      runs.back().label = labels[i];
    }
    loom::metrics::report::print_comparison(runs, std::cout);
    if (opts->no_html) return;
    std::string title = "loom_mpi compare:";
    for (const auto& label : labels) title += " " + label;
    loom::metrics::report::write_html_report(opts->html, runs, title);
    std::cout << "\nreport: " << opts->html << '\n';
  });
}
