#include "metrics/report/html_report.h"

#include "common/error.h"
#include "metrics/report/report_assets.h"
#include "metrics/report/sweep_pivot.h"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <set>

namespace loom::metrics::report {
namespace {

bool is_bucket_label(const std::string& label) {
  const auto& labels = length_bucket_labels();
  return std::find(labels.begin(), labels.end(), label) != labels.end();
}

nlohmann::json number_or_null(const std::optional<double>& value) {
  return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
}

nlohmann::json method_json(const std::string& label, size_t run, const std::string& method, const MethodResult& m) {
  const SweepPoint point = sweep_point(method, m.params_json);
  nlohmann::json out = {{"label", label},         {"run", run},           {"method", method},
                        {"name", point.name},     {"ratio", number_or_null(point.ratio)},
                        {"overall", m.overall},   {"samples", m.samples}, {"failed", m.failed},
                        {"generated", m.cost.generated}};
  out["capabilities"] = nlohmann::json::object();
  for (const auto& [capability, c] : m.capabilities) out["capabilities"][capability] = c.score;
  out["benchmarks"] = nlohmann::json::object();
  for (const auto& [benchmark, b] : m.benchmarks)
    out["benchmarks"][benchmark] = {{"score", b.total.score}, {"capability", b.capability},
                                    {"official", number_or_null(b.official)}};
  out["cost"] = nlohmann::json::object();
  const auto& figures = method_cost_figures();
  for (size_t i = 0; i < figures.size(); ++i) out["cost"][figures[i].name] = m.cost.values[i];
  return out;
}

// Score vs target length of each benchmark with synthetic lengths and no needle depths (RULER, Counting_Stars,
// babilong, ...): one point per length column.
void add_curves(const std::string& label, const MethodResult& m, nlohmann::json& curves) {
  for (const auto& [benchmark, b] : m.benchmarks) {
    if (!b.depths.empty()) continue;
    nlohmann::json points = nlohmann::json::array();
    for (const auto& [column, s] : b.lengths)
      if (!is_bucket_label(column.label))
        points.push_back({{"order", column.order}, {"length", column.label}, {"score", s.score}});
    if (!points.empty()) curves.push_back({{"benchmark", benchmark}, {"method", label}, {"points", points}});
  }
}

void add_heatmaps(const std::string& label, const MethodResult& m, nlohmann::json& heatmaps) {
  for (const auto& [benchmark, b] : m.benchmarks) {
    if (b.depths.empty()) continue;
    std::set<LengthColumn> lengths;
    std::set<double> depths;
    for (const auto& [cell, s] : b.depths) {
      lengths.insert(cell.first);
      depths.insert(cell.second);
    }
    nlohmann::json length_labels = nlohmann::json::array(), cells = nlohmann::json::array();
    for (const auto& column : lengths) length_labels.push_back(column.label);
    for (const auto& [cell, s] : b.depths)
      cells.push_back({{"length", cell.first.label}, {"depth", cell.second}, {"score", s.score},
                       {"samples", s.samples}});
    heatmaps.push_back({{"benchmark", benchmark}, {"method", label}, {"lengths", length_labels},
                        {"depths", std::vector<double>(depths.begin(), depths.end())}, {"cells", cells}});
  }
}

// Inside <script type="application/json"> the text must not close the element: "</" becomes "<\/" (same JSON).
std::string script_safe(std::string text) {
  for (size_t at = text.find("</"); at != std::string::npos; at = text.find("</", at + 3)) text.insert(at + 1, "\\");
  return text;
}

std::string html_escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

}  // namespace

nlohmann::json report_data(const std::vector<ReportRun>& runs) {
  nlohmann::json data;
  data["runs"] = nlohmann::json::array();
  data["methods"] = nlohmann::json::array();
  data["tasks"] = nlohmann::json::array();
  data["curves"] = nlohmann::json::array();
  data["heatmaps"] = nlohmann::json::array();
  data["failures"] = nlohmann::json::array();
  data["cost_figures"] = nlohmann::json::array();
  for (const auto& f : method_cost_figures())
    data["cost_figures"].push_back({{"name", f.name}, {"label", f.label}, {"divisor", f.display_divisor},
                                    {"precision", f.precision}, {"vs_full", f.vs_full}});
  for (size_t r = 0; r < runs.size(); ++r) {
    const ReportRun& run = runs[r];
    nlohmann::json identity = identity_to_json(run.identity);
    identity["label"] = run.label;
    identity["rows"] = run.summary.rows;
    identity["failed"] = run.summary.failed;
    data["runs"].push_back(std::move(identity));
    auto label_of = [&](const std::string& method) { return runs.size() > 1 ? run.label + ": " + method : method; };
    for (const auto& [method, m] : run.summary.methods) {
      const std::string label = label_of(method);
      data["methods"].push_back(method_json(label, r, method, m));
      for (const auto& [benchmark, b] : m.benchmarks)
        for (const auto& [task, t] : b.tasks) {
          nlohmann::json lengths = nlohmann::json::object();
          for (const auto& [column, s] : t.lengths) lengths[column.label] = s.score;
          data["tasks"].push_back({{"method", label}, {"benchmark", benchmark}, {"task", task},
                                   {"capability", t.capability}, {"score", t.total.score},
                                   {"samples", t.total.samples}, {"failed", t.total.failed}, {"lengths", lengths}});
        }
      add_curves(label, m, data["curves"]);
      add_heatmaps(label, m, data["heatmaps"]);
    }
    for (const Failure& f : run.summary.failures)
      data["failures"].push_back({{"method", label_of(f.method)}, {"benchmark", f.benchmark}, {"task", f.task},
                                  {"sample_key", f.sample_key}, {"error", f.error}});
  }
  // The task × length table's columns in length order (target lengths, then buckets), across every run.
  std::set<LengthColumn> columns;
  for (const auto& run : runs)
    for (const auto& [method, m] : run.summary.methods)
      for (const auto& [benchmark, b] : m.benchmarks)
        for (const auto& [column, s] : b.lengths) columns.insert(column);
  data["length_columns"] = nlohmann::json::array();
  for (const auto& column : columns) data["length_columns"].push_back(column.label);
  return data;
}

std::string render_html_report(const std::vector<ReportRun>& runs, const std::string& title) {
  std::string html;
  html += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  html += "<meta name=\"generator\" content=\"loom_mpi report\">\n";
  html += "<title>" + html_escape(title) + "</title>\n";
  html += "<style>\n" + std::string(report_page_css) + "</style>\n";
  // Errors are recorded before anything else runs, so the page (and the browser test) can report them.
  html += "<script>window.loomErrors=[];window.addEventListener('error',function(e){window.loomErrors.push("
          "String(e.message));});(function(){var o=console.error;console.error=function(){window.loomErrors.push("
          "Array.prototype.join.call(arguments,' '));o.apply(console,arguments);};})();</script>\n";
  html += "<script>\n" + std::string(chart_js) + "\n</script>\n</head>\n<body>\n";
  html += "<h1>" + html_escape(title) + "</h1>\n<div id=\"report\"></div>\n";
  html += "<script type=\"application/json\" id=\"loom-data\">" + script_safe(report_data(runs).dump()) +
          "</script>\n";
  html += "<script>\n" + std::string(report_page_js) + "\n</script>\n</body>\n</html>\n";
  return html;
}

void write_html_report(const std::filesystem::path& path, const std::vector<ReportRun>& runs,
                       const std::string& title) {
  const std::filesystem::path temp = path.string() + ".tmp";
  {
    std::ofstream file(temp, std::ios::binary | std::ios::trunc);
    if (!file) throw Error(fmt::format("cannot write the HTML report {}", temp.string()));
    file << render_html_report(runs, title);
    if (!file.flush()) throw Error(fmt::format("cannot write the HTML report {}", temp.string()));
  }
  std::error_code error;
  std::filesystem::rename(temp, path, error);
  if (error) throw Error(fmt::format("cannot rename {} to {}: {}", temp.string(), path.string(), error.message()));
}

std::filesystem::path html_path_for(const std::filesystem::path& results_path) {
  std::filesystem::path out = results_path;
  return out.replace_extension(".html");
}

}  // namespace loom::metrics::report
