// `loom_mpi report RESULTS.h5 [--json] [--by task|length|capability|method] [--no-write]`: re-runs only the
// metrics pass on a results file (journal of a killed run included): scores every row, rewrites the /metrics
// group and RESULTS.json, and prints the tables (or the JSON summary with --json).
#include "metrics/report/metrics_pass.h"

#include <CLI/CLI.hpp>

#include <iostream>
#include <memory>
#include <string>

namespace {

struct ReportOptions {
  std::string results;
  std::string by = "all";
  bool json = false;
  bool no_write = false;
};

}  // namespace

void loom_cli_add_report(CLI::App& app) {
  auto opts = std::make_shared<ReportOptions>();
  CLI::App* cmd = app.add_subcommand("report", "Re-run the metrics pass on a results file and print the score tables");
  cmd->add_option("results", opts->results, "results file written by a job (RESULTS.h5)")->required();
  cmd->add_option("--by", opts->by, "which tables to print: task | length | capability | method | all")
      ->check(CLI::IsMember({"task", "length", "capability", "method", "all"}));
  cmd->add_flag("--json", opts->json, "print the JSON summary instead of the tables");
  cmd->add_flag("--no-write", opts->no_write, "only print: leave the /metrics group and RESULTS.json untouched");
  cmd->callback([opts]() {
    loom::metrics::report::MetricsPassOptions options;
    options.view = loom::metrics::report::parse_table_view(opts->by);
    options.print_json = opts->json;
    options.write_files = !opts->no_write;
    loom::metrics::report::run_metrics_pass(opts->results, std::cout, options);
  });
}
