#include "metrics/report/report_tables.h"

#include "common/error.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <vector>

namespace loom::metrics::report {
namespace {

// A table of text cells printed with columns padded to their widest cell; column 0 left-aligned.
class TextTable {
 public:
  explicit TextTable(std::vector<std::string> header) { rows_.push_back(std::move(header)); }
  void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  void rule() { rules_.insert(rows_.size()); }
  bool empty() const { return rows_.size() <= 1; }
  void print(std::ostream& out) const {
    std::vector<size_t> widths;
    for (const auto& row : rows_)
      for (size_t c = 0; c < row.size(); ++c) {
        if (widths.size() <= c) widths.push_back(0);
        widths[c] = std::max(widths[c], row[c].size());
      }
    size_t total = 0;
    for (size_t w : widths) total += w + 2;
    for (size_t r = 0; r < rows_.size(); ++r) {
      if (rules_.count(r)) out << std::string(total, '-') << '\n';
      std::string line;
      for (size_t c = 0; c < rows_[r].size(); ++c) {
        const std::string& cell = rows_[r][c];
        const std::string pad(widths[c] - cell.size(), ' ');
        line += c < 2 ? cell + pad : pad + cell;
        line += "  ";
      }
      while (!line.empty() && line.back() == ' ') line.pop_back();
      out << line << '\n';
      if (r == 0) out << std::string(total, '-') << '\n';
    }
  }

 private:
  std::vector<std::vector<std::string>> rows_;
  std::set<size_t> rules_;
};

// NaN: nothing scored (a judged benchmark without verdicts, docs/judge.md).
std::string cell(double score) { return std::isnan(score) ? "n/c" : fmt::format("{:.2f}", score); }
std::string cell(const Score& s) { return cell(s.score); }

bool is_bucket_column(const LengthColumn& column) {
  const auto& labels = length_bucket_labels();
  return std::find(labels.begin(), labels.end(), column.label) != labels.end();
}

// One table for the benchmarks of one kind: synthetic (columns = target lengths) or natural data (columns =
// context-length buckets), so the two kinds of columns are never interleaved.
void print_task_table(const std::string& method, const MethodResult& m, bool natural, std::ostream& out) {
  std::set<LengthColumn> columns;
  std::vector<std::string> selected;
  for (const auto& [benchmark, b] : m.benchmarks) {
    bool has_natural = false;
    for (const auto& [column, s] : b.lengths) has_natural = has_natural || is_bucket_column(column);
    if (has_natural != natural) continue;
    selected.push_back(benchmark);
    for (const auto& [column, s] : b.lengths) columns.insert(column);
  }
  if (selected.empty()) return;
  bool official = false;
  for (const auto& benchmark : selected)
    for (const auto& [task, t] : m.benchmarks.at(benchmark).tasks) official = official || t.official.has_value();
  auto official_cell = [](const std::optional<double>& score) { return score ? cell(*score) : std::string(); };
  std::vector<std::string> header = {"benchmark", "task"};
  for (const auto& column : columns) header.push_back(column.label);
  header.insert(header.end(), {"avg", "n", "failed"});
  if (official) header.push_back("official");
  TextTable table(header);
  for (const auto& benchmark : selected) {
    const BenchmarkResult& b = m.benchmarks.at(benchmark);
    for (const auto& [task, t] : b.tasks) {
      std::vector<std::string> row = {benchmark, task};
      for (const auto& column : columns) {
        auto it = t.lengths.find(column);
        row.push_back(it == t.lengths.end() ? "" : cell(it->second));
      }
      row.insert(row.end(), {cell(t.total), std::to_string(t.total.samples), std::to_string(t.total.failed)});
      if (official) row.push_back(official_cell(t.official));
      table.add(std::move(row));
    }
    std::vector<std::string> average = {benchmark, "(benchmark avg)"};
    for (const auto& column : columns) {
      auto it = b.lengths.find(column);
      average.push_back(it == b.lengths.end() ? "" : cell(it->second));
    }
    average.insert(average.end(), {cell(b.total), std::to_string(b.total.samples), std::to_string(b.total.failed)});
    if (official) average.push_back(official_cell(b.official));
    table.add(std::move(average));
    if (benchmark != selected.back()) table.rule();
  }
  out << "\nScores by task and " << (natural ? "context-length bucket (natural data)" : "target context length")
      << " — method " << method << " (percent)\n";
  table.print(out);
  if (!official) return;
  out << "official: the benchmark's own rule per task; on the (benchmark avg) row the plain mean of its tasks' official"
         " scores, the benchmark's official overall score\n";
  for (const auto& benchmark : selected) {
    const BenchmarkResult& b = m.benchmarks.at(benchmark);
    if (!b.official) continue;
    std::string rules;
    for (const auto& rule : b.official_rules) rules += (rules.empty() ? "" : "; ") + rule;
    out << "  " << benchmark << " official overall " << cell(*b.official) << ": " << rules << '\n';
  }
}

void print_task_tables(const Summary& summary, std::ostream& out) {
  for (const auto& [method, m] : summary.methods) {
    print_task_table(method, m, false, out);
    print_task_table(method, m, true, out);
  }
}

void print_length_tables(const Summary& summary, std::ostream& out) {
  for (const auto& [method, m] : summary.methods) {
    std::vector<std::string> header = {"benchmark", "capability"};
    for (const auto& bucket : length_bucket_labels()) header.push_back(bucket);
    TextTable table(header);
    auto bucket_cells = [](const std::map<std::string, Score>& buckets, std::vector<std::string>& row) {
      for (const auto& bucket : length_bucket_labels()) {
        auto it = buckets.find(bucket);
        row.push_back(it == buckets.end() ? "" : cell(it->second) + " (" + std::to_string(it->second.samples) + ")");
      }
    };
    for (const auto& [benchmark, b] : m.benchmarks) {
      std::vector<std::string> row = {benchmark, b.capability};
      bucket_cells(b.buckets, row);
      table.add(std::move(row));
    }
    table.rule();
    std::vector<std::string> average = {"(mean of benchmarks)", ""};
    bucket_cells(m.buckets, average);
    table.add(std::move(average));
    out << "\nScores by context-length bucket — method " << method << " (percent, samples in parentheses)\n";
    table.print(out);
  }
}

void print_capability_tables(const Summary& summary, std::ostream& out) {
  for (const auto& [method, m] : summary.methods) {
    TextTable table({"capability", "benchmarks", "score"});
    for (const auto& [capability, c] : m.capabilities) {
      std::string names;
      for (const auto& b : c.benchmarks) names += (names.empty() ? "" : ", ") + b;
      table.add({capability, names, cell(c.score)});
    }
    table.rule();
    table.add({"overall", "(mean of " + std::to_string(m.benchmarks.size()) + " benchmarks)", cell(m.overall)});
    out << "\nScores by capability — method " << method << " (percent)\n";
    table.print(out);
  }
}

// What each method cost, over its rows that generated (ResultRow cost columns).
void print_cost_table(const Summary& summary, std::ostream& out) {
  std::vector<std::string> header = {"cost"};
  for (const auto& [method, m] : summary.methods) header.push_back(method);
  TextTable table(header);
  const bool has_full = summary.methods.count("full") > 0;
  auto add = [&](const std::string& name, auto value) {
    std::vector<std::string> row = {name};
    for (const auto& [method, m] : summary.methods) row.push_back(m.cost.generated > 0 ? value(m.cost) : "");
    table.add(std::move(row));
  };
  add("generated rows", [](const MethodCost& c) { return std::to_string(c.generated); });
  const auto& figures = method_cost_figures();
  for (size_t i = 0; i < figures.size(); ++i) {
    const MethodCostFigure& f = figures[i];
    if (f.vs_full && !has_full) continue;
    add(f.label, [&](const MethodCost& c) {
      return fmt::format("{:.{}f}", c.values[i] / f.display_divisor, f.precision);
    });
  }
  out << "\nCost by method (rows that generated; peak memory includes the weights)\n";
  table.print(out);
}

void print_method_table(const Summary& summary, std::ostream& out) {
  std::vector<std::string> header = {"level", "name"};
  for (const auto& [method, m] : summary.methods) header.push_back(method);
  TextTable table(header);
  std::set<std::string> benchmarks, capabilities;
  for (const auto& [method, m] : summary.methods) {
    for (const auto& [b, r] : m.benchmarks) benchmarks.insert(b);
    for (const auto& [c, r] : m.capabilities) capabilities.insert(c);
  }
  for (const auto& benchmark : benchmarks) {
    std::vector<std::string> row = {"benchmark", benchmark};
    for (const auto& [method, m] : summary.methods) {
      auto it = m.benchmarks.find(benchmark);
      row.push_back(it == m.benchmarks.end() ? "" : cell(it->second.total));
    }
    table.add(std::move(row));
  }
  table.rule();
  for (const auto& capability : capabilities) {
    std::vector<std::string> row = {"capability", capability};
    for (const auto& [method, m] : summary.methods) {
      auto it = m.capabilities.find(capability);
      row.push_back(it == m.capabilities.end() ? "" : cell(it->second.score));
    }
    table.add(std::move(row));
  }
  table.rule();
  std::vector<std::string> overall = {"overall", ""}, samples = {"samples", ""}, failed = {"failed", ""};
  for (const auto& [method, m] : summary.methods) {
    overall.push_back(cell(m.overall));
    samples.push_back(std::to_string(m.samples));
    failed.push_back(std::to_string(m.failed));
  }
  table.add(std::move(overall));
  table.add(std::move(samples));
  table.add(std::move(failed));
  out << "\nScores by method (percent)\n";
  table.print(out);
  print_cost_table(summary, out);
}

}  // namespace

TableView parse_table_view(const std::string& name) {
  if (name == "all" || name.empty()) return TableView::all;
  if (name == "task") return TableView::task;
  if (name == "length") return TableView::length;
  if (name == "capability") return TableView::capability;
  if (name == "method") return TableView::method;
  throw InputError("command line", 0, "--by", "one of task, length, capability, method, all (got '" + name + "')");
}

void print_tables(const Summary& summary, TableView view, std::ostream& out) {
  if (summary.methods.empty()) {
    out << "\nNo results rows to score.\n";
    return;
  }
  if (view == TableView::all || view == TableView::task) print_task_tables(summary, out);
  if (view == TableView::all || view == TableView::length) print_length_tables(summary, out);
  if (view == TableView::all || view == TableView::capability) print_capability_tables(summary, out);
  if (view == TableView::all || view == TableView::method) print_method_table(summary, out);
}

void print_failures(const Summary& summary, std::ostream& out, size_t max_listed) {
  if (summary.failed == 0) {
    out << "\nFailures: none (" << summary.rows << " rows scored)\n";
    return;
  }
  std::map<std::tuple<std::string, std::string, std::string>, int64_t> counts;
  for (const Failure& f : summary.failures) ++counts[{f.method, f.benchmark, f.task}];
  TextTable table({"method", "benchmark", "task", "failed"});
  for (const auto& [key, count] : counts)
    table.add({std::get<0>(key), std::get<1>(key), std::get<2>(key), std::to_string(count)});
  out << "\nFailures: " << summary.failed << " of " << summary.rows << " rows (scored 0)\n";
  table.print(out);
  for (size_t i = 0; i < summary.failures.size() && i < max_listed; ++i)
    out << "  " << summary.failures[i].sample_key << ": " << summary.failures[i].error << '\n';
  if (summary.failures.size() > max_listed)
    out << "  ... " << summary.failures.size() - max_listed << " more in the JSON summary\n";
}

void print_judged(const Summary& summary, std::ostream& out) {
  TextTable table({"method", "benchmark", "task", "judged metric", "score", "computed", "not computed"});
  std::map<std::string, int64_t> reasons;
  for (const auto& [method, m] : summary.methods)
    for (const auto& [benchmark, b] : m.benchmarks)
      for (const auto& [task, t] : b.tasks)
        for (const auto& [metric, j] : t.judged) {
          table.add({method, benchmark, task, metric, j.computed > 0 ? fmt::format("{:.2f}", j.score) : "-",
                     std::to_string(j.computed), std::to_string(j.not_computed)});
          for (const auto& [reason, count] : j.reasons) reasons[metric + ": " + reason] += count;
        }
  if (table.empty()) return;
  out << "\nJudged metrics (docs/judge.md; '-' = not computed)\n";
  table.print(out);
  for (const auto& [reason, count] : reasons) out << "  not computed for " << count << " rows: " << reason << '\n';
  TextTable groups({"method", "benchmark", "task", "judged metric", "by", "value", "score", "computed"});
  for (const auto& [method, m] : summary.methods)
    for (const auto& [benchmark, b] : m.benchmarks)
      for (const auto& [task, t] : b.tasks)
        for (const auto& [metric, j] : t.judged)
          for (const auto& [field, values] : j.groups)
            for (const auto& [value, g] : values)
              groups.add({method, benchmark, task, metric, field, value, fmt::format("{:.2f}", g.score),
                          std::to_string(g.computed)});
  for (const auto& [method, m] : summary.methods)
    for (const auto& [benchmark, b] : m.benchmarks)
      for (const auto& [metric, j] : b.judged_instances)
        out << fmt::format("  {} {} {} per instance (every row of it counted, the minimum): {} over {} instances, {} "
                           "incomplete\n",
                           method, benchmark, metric, j.instances > 0 ? fmt::format("{:.2f}", j.score) : "-",
                           j.instances, j.incomplete);
  if (!groups.empty()) {
    out << "\nJudged metrics by category (the rows each was computed for)\n";
    groups.print(out);
  }
}

}  // namespace loom::metrics::report
