#include "metrics/report/metrics_pass.h"

#include "common/error.h"
#include "metrics/report/metrics_group.h"
#include "metrics/report/summary_json.h"
#include "results/result_store.h"
#include "results/results_file.h"

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
  const std::vector<results::ResultRow> rows = results::read_rows(results_path);
  RowScorer scorer(scorers);
  std::vector<ScoredRow> scored;
  scored.reserve(rows.size());
  for (const auto& row : rows) scored.push_back(scorer.score(row));

  MetricsPassResult result;
  result.summary = aggregate(scored);
  result.json = summary_to_json(result.summary, results_path.string());
  result.json_path = summary_path_for(results_path);
  std::string notes;
  if (options.write_files) {
    const std::string json_text = result.json.dump(2);
    write_text_atomically(result.json_path, json_text + "\n");
    try {
      results::rewrite_results_file(results_path, [&](hid_t file) {
        write_metrics_group(file, result.summary, scored, json_text);
      });
      result.wrote_metrics_group = true;
    } catch (const Error& e) {
      notes = fmt::format("note: the /metrics group was not written ({})\n", e.what());
    }
  }

  if (options.print_json) {
    out << result.json.dump(2) << '\n';
    return result;
  }
  print_tables(result.summary, options.view, out);
  print_failures(result.summary, out);
  out << '\n' << notes;
  if (options.write_files) out << "summary: " << result.json_path.string() << '\n';
  return result;
}

}  // namespace loom::metrics::report
