#include "metrics/report/metrics_pass.h"

#include "common/error.h"
#include "metrics/judged/lciteeval_citation.h"
#include "metrics/report/metrics_group.h"
#include "metrics/report/summary_json.h"
#include "metrics/report/sweep_pivot.h"
#include "results/result_store.h"
#include "results/results_file.h"
#include "results/verdicts.h"

#include <fstream>

namespace loom::metrics::report {
namespace {

void write_text_atomically(const std::filesystem::path& path, const std::string& text) {
  const std::filesystem::path temp = path.string() + ".tmp";
  {
    std::ofstream file(temp, std::ios::binary | std::ios::trunc);
    if (!file) throw Error(fmt::format("cannot write {}", temp.string()));
    file << text;
    if (!file.flush()) throw Error(fmt::format("cannot write {}", temp.string()));
  }
  std::error_code error;
  std::filesystem::rename(temp, path, error);
  if (error) throw Error(fmt::format("cannot rename {} to {}: {}", temp.string(), path.string(), error.message()));
}

}  // namespace

namespace {

struct ScoredFile {
  std::vector<results::ResultRow> rows;
  std::vector<ScoredRow> scored;
  std::vector<results::Verdict> verdicts;  // latest per (row, metric, judge model)
  ReportRun run;
};

ScoredFile score_file(const std::filesystem::path& results_path, const ScorerFactory& scorers,
                      const MetricsPassOptions& options = {}) {
  ScoredFile out;
  out.rows = results::read_rows(results_path);
  out.verdicts = results::latest_verdicts(results::read_verdicts(results_path));
  JudgedView judged =
      make_judged_view(out.verdicts, options.judge_configured, options.judge_model, options.judge_metrics);
  judged.nli_configured = options.nli_configured;
  judged.nli_model = options.nli_model;
  for (const results::Verdict& v : out.verdicts)
    if (v.metric == judged::kNliVerdictMetric && (options.nli_model.empty() || v.judge_model == options.nli_model))
      judged.nli_answers = true;
  RowScorer scorer(scorers, &judged);
  out.scored.reserve(out.rows.size());
  for (const auto& row : out.rows) out.scored.push_back(scorer.score(row));
  out.run.label = results_path.stem().string();
  // A killed run may have only its journal: no attributes yet, the identity is then the rows' alone.
  const results::JobAttributes attributes =
      std::filesystem::exists(results_path) ? results::read_attributes(results_path) : results::JobAttributes{};
  out.run.identity = run_identity(results_path, attributes, out.rows);
  out.run.summary = aggregate(out.scored);
  return out;
}

}  // namespace

ReportRun score_results_file(const std::filesystem::path& results_path, const ScorerFactory& scorers) {
  return score_file(results_path, scorers).run;
}

ReportRun score_results_file(const std::filesystem::path& results_path) {
  return score_results_file(results_path, [](const std::string& name) { return make_scorer(name); });
}

std::filesystem::path summary_path_for(const std::filesystem::path& results_path) {
  std::filesystem::path out = results_path;
  return out.replace_extension(".json");
}

MetricsPassResult run_metrics_pass(const std::filesystem::path& results_path, std::ostream& out) {
  return run_metrics_pass(results_path, out, MetricsPassOptions{});
}

MetricsPassResult run_metrics_pass(const std::filesystem::path& results_path, std::ostream& out,
                                   const MetricsPassOptions& options) {
  return run_metrics_pass(results_path, out, options, [](const std::string& name) { return make_scorer(name); });
}

MetricsPassResult run_metrics_pass(const std::filesystem::path& results_path, std::ostream& out,
                                   const MetricsPassOptions& options, const ScorerFactory& scorers) {
  const ScoredFile file = score_file(results_path, scorers, options);
  MetricsPassResult result;
  result.summary = file.run.summary;
  result.json = summary_to_json(result.summary, results_path.string());
  result.json_path = summary_path_for(results_path);
  std::string notes;
  if (options.write_files) {
    const std::string json_text = result.json.dump(2);
    write_text_atomically(result.json_path, json_text + "\n");
    try {
      const std::filesystem::path verdict_journal = results::verdict_journal_path_for(results_path);
      results::rewrite_results_file(
          results_path,
          [&](hid_t group_file) {
            write_metrics_group(group_file, result.summary, file.scored, json_text);
            results::write_verdict_groups(group_file, file.verdicts);
          },
          [&] {
            std::error_code ignored;
            std::filesystem::remove(verdict_journal, ignored);  // its verdicts are in /judge now
          });
      result.wrote_metrics_group = true;
    } catch (const Error& e) {
      notes = fmt::format("note: the /metrics group was not written ({})\n", e.what());
    }
  }
  if (options.write_html) {
    result.html_path = options.html_path.empty() ? html_path_for(results_path) : options.html_path;
    const std::string name = file.run.identity.job.empty() ? file.run.label : file.run.identity.job;
    try {
      write_html_report(result.html_path, {file.run}, "loom_mpi report: " + name);
    } catch (const Error& e) {
      notes += fmt::format("note: the HTML report was not written ({})\n", e.what());
      result.html_path.clear();
    }
  }

  if (options.export_format) {
    write_export(result.summary, *options.export_format, out);
    return result;
  }
  if (options.print_json) {
    out << result.json.dump(2) << '\n';
    return result;
  }
  print_tables(result.summary, options.view, out);
  if (options.view == TableView::all || options.view == TableView::method) print_sweep_pivot(result.summary, out);
  print_failures(result.summary, out);
  print_judged(result.summary, out);
  out << '\n' << notes;
  if (options.write_files) out << "summary: " << result.json_path.string() << '\n';
  if (!result.html_path.empty()) out << "report: " << result.html_path.string() << '\n';
  return result;
}

}  // namespace loom::metrics::report
