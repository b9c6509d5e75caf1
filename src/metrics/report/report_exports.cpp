#include "metrics/report/report_exports.h"

#include "common/error.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cmath>

namespace loom::metrics::report {
namespace {

const std::vector<std::string>& export_columns() {
  static const std::vector<std::string> columns = {"level",  "method", "benchmark", "task",  "capability",
                                                   "length", "score",  "samples",   "failed"};
  return columns;
}

std::vector<std::string> cells(const ExportRecord& r) {
  // An empty score: nothing scored (a judged benchmark without verdicts, docs/judge.md).
  return {r.level,  r.method,  r.benchmark, r.task, r.capability, r.length,
          std::isnan(r.score) ? std::string() : fmt::format("{:.4f}", r.score), std::to_string(r.samples),
          std::to_string(r.failed)};
}

// RFC 4180: a field with a comma, quote or line break is quoted, its quotes doubled.
std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string out = "\"";
  for (char c : text) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string md_field(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '|') out += "\\|";
    else if (c == '\n' || c == '\r') out += ' ';
    else out += c;
  }
  return out;
}

void write_rows(const std::vector<ExportRecord>& records, std::ostream& out, bool markdown) {
  auto line = [&](const std::vector<std::string>& fields) {
    std::string text = markdown ? "|" : "";
    for (size_t i = 0; i < fields.size(); ++i) {
      if (markdown) text += " " + md_field(fields[i]) + " |";
      else text += (i ? "," : "") + csv_field(fields[i]);
    }
    out << text << '\n';
  };
  line(export_columns());
  if (markdown) {
    std::vector<std::string> rule;
    for (size_t i = 0; i < export_columns().size(); ++i) rule.push_back(i < 6 ? "---" : "---:");
    std::string text = "|";
    for (const auto& r : rule) text += " " + r + " |";
    out << text << '\n';
  }
  for (const auto& record : records) line(cells(record));
}

}  // namespace

std::vector<ExportRecord> export_records(const Summary& summary) {
  std::vector<ExportRecord> out;
  for (const auto& [method, m] : summary.methods)
    for (const auto& [benchmark, b] : m.benchmarks)
      for (const auto& [task, t] : b.tasks)
        for (const auto& [column, s] : t.lengths)
          out.push_back({"task_length", method, benchmark, task, t.capability, column.label, s.score, s.samples,
                         s.failed});
  for (const auto& [method, m] : summary.methods)
    for (const auto& [benchmark, b] : m.benchmarks)
      for (const auto& [task, t] : b.tasks)
        out.push_back({"task", method, benchmark, task, t.capability, "", t.total.score, t.total.samples,
                       t.total.failed});
  for (const auto& [method, m] : summary.methods)
    for (const auto& [benchmark, b] : m.benchmarks)
      out.push_back({"benchmark", method, benchmark, "", b.capability, "", b.total.score, b.total.samples,
                     b.total.failed});
  for (const auto& [method, m] : summary.methods)
    for (const auto& [capability, c] : m.capabilities) {
      ExportRecord record{"capability", method, "", "", capability, "", c.score, 0, 0};
      for (const auto& benchmark : c.benchmarks) {
        record.samples += m.benchmarks.at(benchmark).total.samples;
        record.failed += m.benchmarks.at(benchmark).total.failed;
      }
      out.push_back(std::move(record));
    }
  for (const auto& [method, m] : summary.methods)
    out.push_back({"overall", method, "", "", "", "", m.overall, m.samples, m.failed});
  return out;
}

ExportFormat parse_export_format(const std::string& name) {
  if (name == "csv") return ExportFormat::csv;
  if (name == "md") return ExportFormat::md;
  if (name == "json") return ExportFormat::json;
  throw InputError("command line", 0, "--format", "one of csv, md, json (got '" + name + "')");
}

void write_export(const Summary& summary, ExportFormat format, std::ostream& out) {
  const std::vector<ExportRecord> records = export_records(summary);
  if (format == ExportFormat::json) {
    nlohmann::json array = nlohmann::json::array();
    for (const auto& r : records)
      array.push_back({{"level", r.level},
                       {"method", r.method},
                       {"benchmark", r.benchmark},
                       {"task", r.task},
                       {"capability", r.capability},
                       {"length", r.length},
                       {"score", r.score},
                       {"samples", r.samples},
                       {"failed", r.failed}});
    out << array.dump(2) << '\n';
    return;
  }
  write_rows(records, out, format == ExportFormat::md);
}

}  // namespace loom::metrics::report
