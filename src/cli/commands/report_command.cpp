// `loom_mpi report RESULTS.h5 [--json] [--by task|length|capability|method] [--format csv|md|json] [--html FILE]
// [--no-html] [--no-write]`: re-runs only the metrics pass on a results file (journal of a killed run included):
// scores every row, rewrites the /metrics group, RESULTS.json and the HTML report (RESULTS.html, or FILE), and
// prints the tables (with the method × ratio pivot of a sweep), the JSON summary (--json) or one export (--format).
// With --judge-url URL --judge-model NAME it first runs the judge pass (docs/judge.md) on the file's rows; without,
// judged metrics come from the verdicts stored with the file (--judge-model picks whose). With --nli-url URL
// --nli-model NAME (an endpoint) or --nli-model-dir DIR (a local classifier) it runs the NLI pass of L-CiteEval's
// citation metrics (metrics/judge/nli_pass.h) too.
#include "common/error.h"
#include "metrics/judge/judge_pass.h"
#include "metrics/judge/nli_pass.h"
#include "metrics/report/metrics_pass.h"

#include <fmt/format.h>

#include <CLI/CLI.hpp>

#include <filesystem>
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
  loom::metrics::judge::JudgeConfig judge;
};

// The --judge-* options: the same checks as the job's judge: keys (a URL needs a model; the key's variable is set).
void check_judge(const loom::metrics::judge::JudgeConfig& judge) {
  if (!judge.enabled()) return;
  if (judge.base_url.rfind("http://", 0) != 0 && judge.base_url.rfind("https://", 0) != 0)
    throw loom::InputError("", 0, "--judge-url",
                           "the judge API's base URL starting with http:// or https:// (e.g. http://127.0.0.1:8000/v1)");
  if (judge.model.empty())
    throw loom::InputError("", 0, "--judge-model", "the judge model's name with --judge-url (stored with each verdict)");
  if (!judge.api_key_env.empty() && !std::getenv(judge.api_key_env.c_str()))
    throw loom::InputError("", 0, "--judge-api-key-env",
                           fmt::format("the name of a set environment variable; {} is not set", judge.api_key_env));
}

// The --nli-* options: the same checks as the job's judge.nli keys.
void check_nli(loom::metrics::judge::NliConfig& nli) {
  if (nli.local()) {
    if (!nli.base_url.empty())
      throw loom::InputError("", 0, "--nli-model-dir", "either --nli-model-dir (a local model) or --nli-url, not both");
    const std::filesystem::path dir = std::filesystem::path(nli.model_dir).lexically_normal();
    nli.model_dir = dir.string();
    if (nli.model.empty()) nli.model = (dir.has_filename() ? dir : dir.parent_path()).filename().string();
    for (const char* file : {"config.json", "spm.model"})
      if (!std::filesystem::is_regular_file(dir / file))
        throw loom::InputError((dir / file).string(), 0, "--nli-model-dir",
                               "a local NLI model directory holding config.json, model.safetensors and spm.model");
    return;
  }
  if (!nli.enabled()) return;
  if (nli.base_url.rfind("http://", 0) != 0 && nli.base_url.rfind("https://", 0) != 0)
    throw loom::InputError("", 0, "--nli-url",
                           "the NLI API's base URL starting with http:// or https:// (e.g. http://127.0.0.1:8001/v1)");
  if (nli.model.empty())
    throw loom::InputError("", 0, "--nli-model", "the NLI model's name with --nli-url (stored with each answer)");
  if (!nli.api_key_env.empty() && !std::getenv(nli.api_key_env.c_str()))
    throw loom::InputError("", 0, "--nli-api-key-env",
                           fmt::format("the name of a set environment variable; {} is not set", nli.api_key_env));
}

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
  cmd->add_option("--judge-url", opts->judge.base_url,
                  "run the judge pass first: the OpenAI-compatible API's base URL (POST <url>/chat/completions)");
  cmd->add_option("--judge-model", opts->judge.model,
                  "the judge model's name (sent, and stored with each verdict); alone: whose stored verdicts count");
  cmd->add_option("--judge-api-key-env", opts->judge.api_key_env, "environment variable holding the judge's API key");
  cmd->add_option("--judge-max-concurrency", opts->judge.max_concurrency, "judge requests in flight at once (8)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--judge-timeout-s", opts->judge.timeout_s, "seconds one judge request may take (120)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--judge-max-retries", opts->judge.max_retries,
                  "retries of a judge request after a timeout, refused connection, 408, 429 or 5xx (4)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--judge-metrics", opts->judge.metrics,
                  "judged metrics to compute and report (default: every one that applies)")
      ->delimiter(',');
  cmd->add_option("--nli-url", opts->judge.nli.base_url,
                  "run the NLI pass first (L-CiteEval's citation metrics): the OpenAI-compatible API's base URL "
                  "(POST <url>/completions, TRUE's \"premise: .. hypothesis: ..\"); shares the --judge-* limits");
  cmd->add_option("--nli-model", opts->judge.nli.model,
                  "the NLI model's name (sent, and stored with each answer); alone: whose stored answers count");
  cmd->add_option("--nli-api-key-env", opts->judge.nli.api_key_env,
                  "environment variable holding the NLI API's key");
  cmd->add_option("--nli-model-dir", opts->judge.nli.model_dir,
                  "run the NLI pass first with a local NLI classifier directory (config.json, model.safetensors, "
                  "spm.model; upstream's tasksource/deberta-base-long-nli); its answers are stored under "
                  "--nli-model, default the directory's name");
  cmd->add_option("--nli-device", opts->judge.nli.device, "where --nli-model-dir runs: cpu, cuda or cuda:N (cpu)");
  cmd->callback([opts]() {
    check_judge(opts->judge);
    check_nli(opts->judge.nli);
    if (opts->judge.enabled()) loom::metrics::judge::run_judge_pass(opts->results, opts->judge, std::cout);
    if (opts->judge.nli.enabled()) loom::metrics::judge::run_nli_pass(opts->results, opts->judge, std::cout);
    loom::metrics::report::MetricsPassOptions options;
    options.view = loom::metrics::report::parse_table_view(opts->by);
    options.print_json = opts->json;
    options.write_files = !opts->no_write;
    options.html_path = opts->html;
    options.write_html = !opts->html.empty() || (!opts->no_write && !opts->no_html);
    if (!opts->format.empty()) options.export_format = loom::metrics::report::parse_export_format(opts->format);
    options.judge_configured = opts->judge.enabled();
    options.judge_model = opts->judge.model;
    options.judge_metrics = opts->judge.metrics;
    options.nli_configured = opts->judge.nli.enabled();
    options.nli_model = opts->judge.nli.model;
    loom::metrics::report::run_metrics_pass(opts->results, std::cout, options);
  });
}
