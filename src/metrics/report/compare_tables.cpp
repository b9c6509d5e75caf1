#include "metrics/report/compare_tables.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <set>

namespace loom::metrics::report {
namespace {

std::string cell(double value, int precision = 2) {
  return std::isnan(value) ? "n/c" : fmt::format("{:.{}f}", value, precision);  // NaN: nothing scored
}

size_t figure_index(const std::string& name) {
  const auto& figures = method_cost_figures();
  for (size_t i = 0; i < figures.size(); ++i)
    if (figures[i].name == name) return i;
  return figures.size();
}

}  // namespace

std::vector<std::string> comparison_labels(const std::vector<std::string>& results_files) {
  std::map<std::string, int> counts;
  for (const auto& file : results_files) ++counts[std::filesystem::path(file).stem().string()];
  std::vector<std::string> labels;
  for (size_t i = 0; i < results_files.size(); ++i) {
    const std::string stem = std::filesystem::path(results_files[i]).stem().string();
    labels.push_back(counts[stem] > 1 ? fmt::format("{}#{}", stem, i + 1) : stem);
  }
  return labels;
}

void print_comparison(const std::vector<ReportRun>& runs, std::ostream& out) {
  std::set<std::string> capabilities, benchmarks;
  for (const auto& run : runs)
    for (const auto& [method, m] : run.summary.methods) {
      for (const auto& [c, r] : m.capabilities) capabilities.insert(c);
      for (const auto& [b, r] : m.benchmarks) benchmarks.insert(b);
    }
  const size_t kv = figure_index("kv_vs_full"), decode = figure_index("decode_ms_per_token");
  std::vector<std::string> header = {"run", "method", "overall"};
  header.insert(header.end(), capabilities.begin(), capabilities.end());
  header.insert(header.end(), benchmarks.begin(), benchmarks.end());
  header.insert(header.end(), {"kv x full", "decode ms/tok", "failed"});
  std::vector<std::vector<std::string>> rows = {header};
  for (const auto& run : runs)
    for (const auto& [method, m] : run.summary.methods) {
      std::vector<std::string> row = {run.label, method, cell(m.overall)};
      for (const auto& c : capabilities) {
        auto it = m.capabilities.find(c);
        row.push_back(it == m.capabilities.end() ? "" : cell(it->second.score));
      }
      for (const auto& b : benchmarks) {
        auto it = m.benchmarks.find(b);
        row.push_back(it == m.benchmarks.end() ? "" : cell(it->second.total.score));
      }
      const bool has_full = run.summary.methods.count("full") > 0;
      row.push_back(m.cost.generated > 0 && has_full && kv < m.cost.values.size() ? cell(m.cost.values[kv], 3) : "");
      row.push_back(m.cost.generated > 0 && decode < m.cost.values.size() ? cell(m.cost.values[decode], 3) : "");
      row.push_back(std::to_string(m.failed));
      rows.push_back(std::move(row));
    }
  std::vector<size_t> widths(header.size(), 0);
  for (const auto& row : rows)
    for (size_t c = 0; c < row.size(); ++c) widths[c] = std::max(widths[c], row[c].size());
  out << "\nRuns compared (scores in percent)\n";
  for (size_t r = 0; r < runs.size(); ++r)
    out << "  " << runs[r].label << ": " << runs[r].identity.file
        << (runs[r].identity.job.empty() ? "" : " (job " + runs[r].identity.job + ")")
        << (runs[r].identity.model.empty() ? "" : ", model " + runs[r].identity.model) << '\n';
  for (size_t r = 0; r < rows.size(); ++r) {
    std::string line;
    for (size_t c = 0; c < rows[r].size(); ++c) {
      const std::string pad(widths[c] - rows[r][c].size(), ' ');
      line += (c < 2 ? rows[r][c] + pad : pad + rows[r][c]) + "  ";
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out << line << '\n';
    if (r == 0) out << std::string(line.size(), '-') << '\n';
  }
}

}  // namespace loom::metrics::report
