#include "metrics/report/summary_json.h"

namespace loom::metrics::report {
namespace {

nlohmann::json score_json(const Score& s) {
  return {{"score", s.score}, {"samples", s.samples}, {"failed", s.failed}};
}

// generated, then every figure of method_cost_figures() (integers as integers).
nlohmann::json cost_json(const MethodCost& cost) {
  nlohmann::json out = {{"generated", cost.generated}};
  const auto& figures = method_cost_figures();
  for (size_t i = 0; i < figures.size(); ++i) {
    if (figures[i].integer) out[figures[i].name] = static_cast<int64_t>(cost.values[i]);
    else out[figures[i].name] = cost.values[i];
  }
  return out;
}

}  // namespace

nlohmann::json summary_to_json(const Summary& summary, const std::string& results_file) {
  nlohmann::json out;
  out["results_file"] = results_file;
  out["scale"] = "percent";
  out["rows"] = summary.rows;
  out["failed"] = summary.failed;
  out["length_buckets"] = length_bucket_labels();
  out["methods"] = nlohmann::json::object();
  for (const auto& [method, m] : summary.methods) {
    nlohmann::json& mj = out["methods"][method];
    mj["overall"] = m.overall;
    mj["samples"] = m.samples;
    mj["failed"] = m.failed;
    mj["cost"] = cost_json(m.cost);
    mj["length_buckets"] = nlohmann::json::object();
    for (const auto& [bucket, s] : m.buckets) mj["length_buckets"][bucket] = score_json(s);
    mj["capabilities"] = nlohmann::json::object();
    for (const auto& [capability, c] : m.capabilities)
      mj["capabilities"][capability] = {{"score", c.score}, {"benchmarks", c.benchmarks}};
    mj["benchmarks"] = nlohmann::json::object();
    for (const auto& [benchmark, b] : m.benchmarks) {
      nlohmann::json bj = score_json(b.total);
      bj["capability"] = b.capability;
      bj["length_buckets"] = nlohmann::json::object();
      for (const auto& [bucket, s] : b.buckets) bj["length_buckets"][bucket] = score_json(s);
      bj["lengths"] = nlohmann::json::object();
      for (const auto& [column, s] : b.lengths) bj["lengths"][column.label] = score_json(s);
      bj["tasks"] = nlohmann::json::object();
      for (const auto& [task, t] : b.tasks) {
        nlohmann::json tj = score_json(t.total);
        tj["metrics"] = t.metrics;
        tj["lengths"] = nlohmann::json::object();
        for (const auto& [column, s] : t.lengths) tj["lengths"][column.label] = score_json(s);
        if (t.official) tj["official"] = {{"score", *t.official}, {"rule", t.official_rule}};
        if (!t.judged.empty()) {
          tj["judged"] = nlohmann::json::object();
          for (const auto& [metric, j] : t.judged) {
            tj["judged"][metric] = {{"score", j.computed > 0 ? nlohmann::json(j.score) : nlohmann::json()},
                                    {"computed", j.computed},
                                    {"not_computed", j.not_computed},
                                    {"reasons", j.reasons}};
            for (const auto& [field, values] : j.groups)
              for (const auto& [value, g] : values)
                tj["judged"][metric]["groups"][field][value] = {{"score", g.score}, {"computed", g.computed}};
          }
        }
        bj["tasks"][task] = std::move(tj);
      }
      if (b.official) bj["official"] = {{"score", *b.official}, {"rules", b.official_rules}};
      for (const auto& [metric, j] : b.judged_instances)
        bj["judged_instances"][metric] = {{"score", j.instances > 0 ? nlohmann::json(j.score) : nlohmann::json()},
                                          {"instances", j.instances},
                                          {"incomplete", j.incomplete}};
      mj["benchmarks"][benchmark] = std::move(bj);
    }
  }
  out["failures"] = nlohmann::json::array();
  for (const Failure& f : summary.failures)
    out["failures"].push_back({{"sample_key", f.sample_key},
                               {"method", f.method},
                               {"benchmark", f.benchmark},
                               {"task", f.task},
                               {"error", f.error}});
  return out;
}

}  // namespace loom::metrics::report
