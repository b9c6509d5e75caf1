// `loom_mpi score --benchmark B --task T --predictions FILE [--json]`: re-scores a prediction file written by an
// official harness (BABILong result CSV, InfiniteBench preds_<task>.jsonl, LEval *.pred.jsonl, LongBench
// <dataset>.jsonl, LongBench v2 results/<model>.jsonl, ...: rescorable_benchmarks()) and prints the official
// score. The task defaults to the one in the file name.
#include "cli/commands/exit_status.h"
#include "metrics/rescoring/prediction_files.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <memory>
#include <string>

namespace {

struct ScoreOptions {
  std::string benchmark;
  std::string task;
  std::string predictions;
  bool json = false;
};

void print_result(const loom::metrics::RescoreResult& r, bool as_json) {
  if (as_json) {
    nlohmann::json out = {{"benchmark", r.benchmark}, {"task", r.task},     {"file", r.file},
                          {"metric", r.metric},       {"scale", r.scale},   {"samples", r.samples},
                          {"skipped", r.skipped},     {"score", r.score}};
    nlohmann::json breakdown = nlohmann::json::object();
    for (const auto& [k, v] : r.breakdown) breakdown[k] = std::isnan(v) ? nlohmann::json() : nlohmann::json(v);
    out["breakdown"] = breakdown;
    std::printf("%s\n", out.dump().c_str());
    return;
  }
  const int digits = r.scale == "0-1" ? 4 : 2;
  std::printf("%s\n", fmt::format("{} {}: {:.{}f} ({} scale, {}, {} samples{})", r.benchmark, r.task, r.score, digits,
                                  r.scale, r.metric, r.samples,
                                  r.skipped ? fmt::format(", {} skipped", r.skipped) : std::string())
                          .c_str());
  for (const auto& [k, v] : r.breakdown) std::printf("  %-12s %.*f\n", k.c_str(), digits, v);
}

std::string rescorable_list() {
  std::string out;
  for (const auto& n : loom::metrics::rescorable_benchmarks()) out += (out.empty() ? "" : ", ") + n;
  return out;
}

}  // namespace

void loom_cli_add_score(CLI::App& app) {
  auto opts = std::make_shared<ScoreOptions>();
  CLI::App* cmd = app.add_subcommand("score", "Re-score an official prediction file and print the official score");
  cmd->add_option("--benchmark", opts->benchmark, "one of: " + rescorable_list())
      ->required();
  cmd->add_option("--task", opts->task, "task name (default: taken from the file name)");
  cmd->add_option("--predictions", opts->predictions,
                  "prediction file written by the official harness (NIAH: also a folder of result files)")
      ->required()
      ->check(CLI::ExistingPath);
  cmd->add_flag("--json", opts->json, "print one JSON object instead of text");
  cmd->callback([opts]() {
    print_result(loom::metrics::rescore_predictions(opts->benchmark, opts->task, opts->predictions), opts->json);
  });
}
