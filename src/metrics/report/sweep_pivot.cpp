#include "metrics/report/sweep_pivot.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>
#include <set>
#include <vector>

namespace loom::metrics::report {
namespace {

constexpr size_t kCellWidth = 7;      // "100.00" and a space
constexpr size_t kMinNameWidth = 14;  // the name column never gets narrower than "method \\ ratio"

std::string ratio_label(const std::optional<double>& ratio) { return ratio ? fmt::format("{:g}", *ratio) : "-"; }

std::string fit(const std::string& text, size_t width) {
  if (text.size() <= width) return text + std::string(width - text.size(), ' ');
  return text.substr(0, width - 1) + "~";
}

}  // namespace

SweepPoint sweep_point(const std::string& method_label, const std::string& params_json) {
  SweepPoint point;
  point.name = method_label.substr(0, method_label.find('@'));
  const nlohmann::json params = nlohmann::json::parse(params_json.empty() ? "{}" : params_json, nullptr, false);
  if (params.is_object() && params.contains("compression_ratio") && params["compression_ratio"].is_number())
    point.ratio = params["compression_ratio"].get<double>();
  return point;
}

bool is_sweep(const Summary& summary) {
  if (summary.methods.size() < 2) return false;
  for (const auto& [method, m] : summary.methods)
    if (sweep_point(method, m.params_json).ratio) return true;
  return false;
}

bool print_sweep_pivot(const Summary& summary, std::ostream& out, size_t width) {
  if (!is_sweep(summary)) return false;
  // ratio (none first) → name → overall score; a name with two labels at one ratio keeps the first.
  std::set<std::optional<double>> ratios;
  std::map<std::string, std::map<std::optional<double>, double>> cells;
  for (const auto& [method, m] : summary.methods) {
    const SweepPoint point = sweep_point(method, m.params_json);
    ratios.insert(point.ratio);
    cells[point.name].try_emplace(point.ratio, m.overall);
  }
  size_t name_width = kMinNameWidth;
  for (const auto& [name, row] : cells) name_width = std::max(name_width, name.size());
  name_width = std::min(name_width, width / 3);
  const size_t per_block = std::max<size_t>(1, (width - name_width) / kCellWidth);
  const std::vector<std::optional<double>> columns(ratios.begin(), ratios.end());
  out << "\nOverall score by method and compression ratio (percent; '-': no ratio)\n";
  for (size_t start = 0; start < columns.size(); start += per_block) {
    const size_t end = std::min(columns.size(), start + per_block);
    std::string header = fit("method \\ ratio", name_width);
    for (size_t c = start; c < end; ++c) header += fmt::format("{:>{}}", ratio_label(columns[c]), kCellWidth);
    out << header << '\n' << std::string(header.size(), '-') << '\n';
    for (const auto& [name, row] : cells) {
      std::string line = fit(name, name_width);
      for (size_t c = start; c < end; ++c) {
        auto it = row.find(columns[c]);
        line += fmt::format("{:>{}}", it == row.end() ? std::string() : fmt::format("{:.2f}", it->second),
                            kCellWidth);
      }
      while (!line.empty() && line.back() == ' ') line.pop_back();
      out << line << '\n';
    }
  }
  return true;
}

}  // namespace loom::metrics::report
