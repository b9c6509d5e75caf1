// `loom_mpi report RESULTS.h5 [--json] [--by task|length|capability|method] [--format csv|md|json] [--html FILE]
// [--no-html] [--no-write]`: re-runs only the metrics pass on a results file (journal of a killed run included):
// scores every row, rewrites the /metrics group, RESULTS.json and the HTML report (RESULTS.html, or FILE), and
// prints the tables (with the method × ratio pivot of a sweep), the JSON summary (--json) or one export (--format).
#include "metrics/report/metrics_pass.h"

#include <CLI/CLI.hpp>

#include <iostream>
#include <memory>
#include <string>

namespace {

struct ReportOptions {
  std::string results;
  std::string by = "all";
  std::string format;
  std::string html;
  bool json = false;
  bool no_write = false;
  bool no_html = false;
};

}  // namespace

void loom_cli_add_report(CLI::App& app) {
  auto opts = std::make_shared<ReportOptions>();
  CLI::App* cmd = app.add_subcommand("report", "Re-run the metrics pass on a results file and print the score tables");
  cmd->add_option("results", opts->results, "results file written by a job (RESULTS.h5)")->required();
  cmd->add_option("--by", opts->by, "which tables to print: task | length | capability | method | all")
      ->check(CLI::IsMember({"task", "length", "capability", "method", "all"}));
  cmd->add_option("--format", opts->format,
                  "print an export instead of the tables: csv | md | json (one row per task x length x method, then "
                  "the task, benchmark, capability and overall aggregates)")
      ->check(CLI::IsMember({"csv", "md", "json"}));
  CLI::Option* html = cmd->add_option("--html", opts->html,
                                      "write the HTML report to this file (default: RESULTS.html next to the results)");
  cmd->add_flag("--json", opts->json, "print the JSON summary instead of the tables");
  html->excludes(cmd->add_flag("--no-html", opts->no_html, "write no HTML report"));
  cmd->add_flag("--no-write", opts->no_write,
                "only print: leave the /metrics group, RESULTS.json and RESULTS.html untouched (--html still writes)");
  cmd->callback([opts]() {
    loom::metrics::report::MetricsPassOptions options;
    options.view = loom::metrics::report::parse_table_view(opts->by);
    options.print_json = opts->json;
    options.write_files = !opts->no_write;
    options.html_path = opts->html;
    options.write_html = !opts->html.empty() || (!opts->no_write && !opts->no_html);
    if (!opts->format.empty()) options.export_format = loom::metrics::report::parse_export_format(opts->format);
    loom::metrics::report::run_metrics_pass(opts->results, std::cout, options);
  });
}
