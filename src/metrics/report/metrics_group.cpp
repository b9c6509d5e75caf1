#include "metrics/report/metrics_group.h"

#include "common/error.h"
#include "results/hdf5_table.h"

#include <deque>

namespace loom::metrics::report {
namespace {

namespace h5 = loom::results::h5;

enum class Kind { text, integer, real };
using Schema = std::vector<std::pair<std::string, Kind>>;
const Schema kScore = {{"score", Kind::real}, {"samples", Kind::integer}, {"failed", Kind::integer}};

Schema with_score(Schema schema, const Schema& tail = {}) {
  schema.insert(schema.end(), kScore.begin(), kScore.end());
  schema.insert(schema.end(), tail.begin(), tail.end());
  return schema;
}

// Builds one table row by row into columns declared up front (so an empty table still has its columns); keeps
// the strings alive until the table is written.
class TableBuilder {
 public:
  explicit TableBuilder(const Schema& schema) {
    for (const auto& [name, kind] : schema) {
      if (kind == Kind::text) columns_.push_back({name, std::vector<const char*>()});
      else if (kind == Kind::integer) columns_.push_back({name, std::vector<int64_t>()});
      else columns_.push_back({name, std::vector<double>()});
    }
  }
  void text(const std::string& name, const std::string& value) { column<const char*>(name).push_back(keep(value)); }
  void integer(const std::string& name, int64_t value) { column<int64_t>(name).push_back(value); }
  void real(const std::string& name, double value) { column<double>(name).push_back(value); }
  void score(const Score& s) {
    real("score", s.score);
    integer("samples", s.samples);
    integer("failed", s.failed);
  }
  void write(hid_t group, const std::string& name) { h5::write_table(group, name, columns_); }

 private:
  template <class T>
  std::vector<T>& column(const std::string& name) {
    for (auto& c : columns_)
      if (c.name == name) return std::get<std::vector<T>>(c.values);
    throw Error(fmt::format("metrics table column {} is not declared", name));
  }
  const char* keep(const std::string& value) { return strings_.emplace_back(value).c_str(); }

  std::vector<h5::WriteColumn> columns_;
  std::deque<std::string> strings_;
};

template <class Fill>
void write(hid_t group, const std::string& name, const Schema& schema, const Fill& fill) {
  TableBuilder table(schema);
  fill(table);
  table.write(group, name);
}

}  // namespace

void write_metrics_group(hid_t file, const Summary& summary, const std::vector<ScoredRow>& rows,
                         const std::string& summary_json) {
  h5::Handle group(h5::check(H5Gcreate2(file, "metrics", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), "create /metrics"),
                   h5::Handle::Kind::group);
  const hid_t g = group.get();
  h5::write_string_attribute(g, "scale", "percent");
  h5::write_string_attribute(g, "summary_json", summary_json);

  const Kind text = Kind::text;
  write(g, "overall", with_score({{"method", text}}), [&](TableBuilder& t) {
    for (const auto& [method, m] : summary.methods) {
      t.text("method", method);
      t.score(Score{m.overall, m.samples, m.failed});
    }
  });
  Schema costs = {{"method", text}, {"generated", Kind::integer}};
  for (const MethodCostFigure& f : method_cost_figures())
    costs.push_back({f.name, f.integer ? Kind::integer : Kind::real});
  write(g, "method_costs", costs, [&](TableBuilder& t) {
    for (const auto& [method, m] : summary.methods) {
      t.text("method", method);
      t.integer("generated", m.cost.generated);
      const auto& figures = method_cost_figures();
      for (size_t i = 0; i < figures.size(); ++i) {
        if (figures[i].integer) t.integer(figures[i].name, static_cast<int64_t>(m.cost.values[i]));
        else t.real(figures[i].name, m.cost.values[i]);
      }
    }
  });
  write(g, "capabilities", {{"method", text}, {"capability", text}, {"score", Kind::real}, {"benchmarks", text}}, [&](TableBuilder& t) {
    for (const auto& [method, m] : summary.methods)
      for (const auto& [capability, c] : m.capabilities) {
        std::string names;
        for (const auto& b : c.benchmarks) names += (names.empty() ? "" : ",") + b;
        t.text("method", method);
        t.text("capability", capability);
        t.real("score", c.score);
        t.text("benchmarks", names);
      }
  });
  write(g, "benchmarks", with_score({{"method", text}, {"benchmark", text}, {"capability", text}}), [&](TableBuilder& t) {
    for (const auto& [method, m] : summary.methods)
      for (const auto& [benchmark, b] : m.benchmarks) {
        t.text("method", method);
        t.text("benchmark", benchmark);
        t.text("capability", b.capability);
        t.score(b.total);
      }
  });
  write(g, "length_buckets", with_score({{"method", text}, {"benchmark", text}, {"bucket", text}}), [&](TableBuilder& t) {
    for (const auto& [method, m] : summary.methods) {
      for (const auto& [bucket, s] : m.buckets) {
        t.text("method", method);
        t.text("benchmark", "");
        t.text("bucket", bucket);
        t.score(s);
      }
      for (const auto& [benchmark, b] : m.benchmarks)
        for (const auto& [bucket, s] : b.buckets) {
          t.text("method", method);
          t.text("benchmark", benchmark);
          t.text("bucket", bucket);
          t.score(s);
        }
    }
  });
  write(g, "tasks", with_score({{"method", text}, {"benchmark", text}, {"task", text}, {"capability", text}}, {{"metric_scores", text}}), [&](TableBuilder& t) {
    for (const auto& [method, m] : summary.methods)
      for (const auto& [benchmark, b] : m.benchmarks)
        for (const auto& [task, r] : b.tasks) {
          std::string metrics;
          for (const auto& [metric, value] : r.metrics)
            metrics += (metrics.empty() ? "" : ",") + metric + "=" + std::to_string(value);
          t.text("method", method);
          t.text("benchmark", benchmark);
          t.text("task", task);
          t.text("capability", r.capability);
          t.score(r.total);
          t.text("metric_scores", metrics);
        }
  });
  write(g, "task_lengths", with_score({{"method", text}, {"benchmark", text}, {"task", text}, {"length", text}, {"length_order", Kind::integer}}), [&](TableBuilder& t) {
    for (const auto& [method, m] : summary.methods)
      for (const auto& [benchmark, b] : m.benchmarks)
        for (const auto& [task, r] : b.tasks)
          for (const auto& [column, s] : r.lengths) {
            t.text("method", method);
            t.text("benchmark", benchmark);
            t.text("task", task);
            t.text("length", column.label);
            t.integer("length_order", column.order);
            t.score(s);
          }
  });
  write(g, "sample_scores", {{"sample_key", text}, {"score", Kind::real}, {"failed", Kind::integer}, {"error", text}}, [&](TableBuilder& t) {
    for (const ScoredRow& row : rows) {
      t.text("sample_key", row.sample_key);
      t.real("score", row.score);
      t.integer("failed", row.failed ? 1 : 0);
      t.text("error", row.error);
    }
  });
}

}  // namespace loom::metrics::report
