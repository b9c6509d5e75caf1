#include "metrics/report/row_scoring.h"

#include "common/error.h"
#include "metrics/judged/judged_metrics.h"
#include "metrics/report/row_citation.h"

#include <fmt/format.h>

#include <limits>
#include <set>

namespace loom::metrics::report {
namespace {

std::string trim(const std::string& text) {
  const auto begin = text.find_first_not_of(" \t");
  if (begin == std::string::npos) return "";
  const auto end = text.find_last_not_of(" \t");
  return text.substr(begin, end - begin + 1);
}

std::vector<std::string> parse_references(const std::string& text) {
  if (text.empty()) return {};
  nlohmann::json parsed = nlohmann::json::parse(text);
  if (parsed.is_string()) return {parsed.get<std::string>()};
  if (!parsed.is_array()) throw std::runtime_error("references_json is neither a JSON array nor a string");
  std::vector<std::string> out;
  for (const auto& item : parsed) out.push_back(item.is_string() ? item.get<std::string>() : item.dump());
  return out;
}

}  // namespace

std::vector<std::string> split_metric_names(const std::string& metric_column) {
  std::vector<std::string> names;
  size_t start = 0;
  for (;;) {
    const size_t comma = metric_column.find(',', start);
    std::string name = trim(metric_column.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (!name.empty()) names.push_back(std::move(name));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return names;
}

const Scorer& RowScorer::scorer(const std::string& name) {
  auto it = scorers_.find(name);
  if (it == scorers_.end()) it = scorers_.emplace(name, factory_(name)).first;
  return *it->second;
}

ScoredRow RowScorer::score(const results::ResultRow& row) {
  ScoredRow out;
  out.sample_key = row.sample_key;
  out.method = row.method;
  out.benchmark = row.benchmark;
  out.task = row.task;
  out.capability = row.capability;
  out.sample_index = row.sample_index;
  out.target_length = row.target_length;
  out.context_length = row.context_length;
  out.method_params_json = row.method_params_json;
  out.generated = row.status == "ok";
  out.cost = row.cost;

  const std::vector<std::string> names = split_metric_names(row.metric);
  if (names.empty())
    throw InputError(row.sample_key, 0, "metric", "a scorer name in the metric column of every results row");
  // A judged metric named in the metric column (LongSafety's longsafety_safety) is the row's score where a verdict
  // gives one; it has no rule scorer. Other names must be scorers (unknown names fail loudly, even on failed rows).
  const auto judged_row_metric = [&](const std::string& name) {
    const judged::JudgedMetric* m = judged::find_judged_score(name);
    return m != nullptr && m->benchmark == row.benchmark;
  };
  for (const auto& name : names)
    if (!judged_row_metric(name)) scorer(name);
  if (!judged_row_metric(names.front())) out.official = scorer(names.front()).aggregation();

  auto fail = [&](std::string reason) {
    out.failed = true;
    out.error = std::move(reason);
    out.score = 0;
    for (const auto& name : names) out.metric_scores[name] = 0;
    return out;
  };
  const nlohmann::json depth_source = nlohmann::json::parse(row.metadata_json, nullptr, false);  // no throw
  if (depth_source.is_object() && depth_source.contains("depth_percent") && depth_source["depth_percent"].is_number())
    out.depth_percent = depth_source["depth_percent"].get<double>();
  if (row.status != "ok") return fail(row.error.empty() ? row.status : row.error);
  try {
    const std::vector<std::string> references = parse_references(row.references_json);
    const nlohmann::json metadata =
        row.metadata_json.empty() ? nlohmann::json::object() : nlohmann::json::parse(row.metadata_json);
    for (const auto& name : names)
      if (!judged_row_metric(name))
        out.metric_scores[name] = 100.0 * scorer(name).score(row.prediction, references, metadata);
    add_judged(row, references, metadata, out);
    add_citation_metrics(row, references, metadata, judged_, out);
    for (const auto& name : names)
      if (judged_row_metric(name) && out.judged.count(name)) out.metric_scores[name] = out.judged.at(name);
    // No score at all (only judged metrics, none computed): NaN, left out of every mean (aggregation.cpp).
    double total = 0;
    for (const auto& [name, value] : out.metric_scores) total += value;
    out.score = out.metric_scores.empty() ? std::numeric_limits<double>::quiet_NaN()
                                          : total / static_cast<double>(out.metric_scores.size());
  } catch (const std::exception& e) {
    return fail(std::string("scoring failed: ") + e.what());
  }
  return out;
}

JudgedView make_judged_view(std::vector<results::Verdict> verdicts, bool judge_configured, std::string model,
                            std::vector<std::string> metrics) {
  JudgedView view;
  view.judge_configured = judge_configured;
  view.model = std::move(model);
  view.metrics = std::move(metrics);
  for (results::Verdict& v : results::latest_verdicts(verdicts)) {
    const std::pair<std::string, std::string> key{v.sample_key, v.metric};
    view.verdicts[key].push_back(std::move(v));
  }
  return view;
}

void RowScorer::add_judged(const results::ResultRow& row, const std::vector<std::string>& references,
                           const nlohmann::json& metadata, ScoredRow& out) const {
  const std::set<std::string> wanted =
      judged_ ? std::set<std::string>(judged_->metrics.begin(), judged_->metrics.end()) : std::set<std::string>();
  bool combined = false;
  for (const judged::JudgedMetric& metric : judged::judged_metrics()) {
    if (metric.benchmark != row.benchmark || (!wanted.empty() && !wanted.count(metric.name))) continue;
    // A fan-out's row scores are its outputs (longcite_citation_f1, ...), each computed or not together.
    const std::vector<std::string> names =
        metric.render_parts != nullptr ? metric.outputs : std::vector<std::string>{metric.name};
    const auto not_computed = [&](std::string reason) {
      for (const std::string& name : names) out.not_computed[name] = reason;
    };
    if (!metric.instance_field.empty() && metadata.is_object() && metadata.contains(metric.instance_field)) {
      const nlohmann::json& id = metadata[metric.instance_field];
      out.judged_instance[metric.name] = id.is_string() ? id.get<std::string>() : id.dump();
    }
    std::string hash;
    try {
      hash = judged::verdict_hash(metric, row.prediction, references, metadata);
    } catch (const judged::JudgeInputError& e) {
      not_computed(e.what());
      continue;
    }
    const std::vector<results::Verdict>* verdicts = nullptr;
    if (judged_) {
      auto it = judged_->verdicts.find({row.sample_key, metric.name});
      if (it != judged_->verdicts.end()) verdicts = &it->second;
    }
    if (!verdicts || verdicts->empty()) {
      not_computed(judged_ && judged_->judge_configured
                       ? "no verdict (the judge pass did not reach this row)"
                       : "no judge configured (job key judge.base_url, or loom_mpi report --judge-url)");
      continue;
    }
    const results::Verdict* verdict = nullptr;
    if (!judged_->model.empty()) {
      for (const auto& v : *verdicts)
        if (v.judge_model == judged_->model) verdict = &v;
      if (!verdict) {
        not_computed(fmt::format("no verdict of judge model {} (stored: {})", judged_->model,
                                 verdicts->front().judge_model));
        continue;
      }
    } else if (verdicts->size() > 1) {
      std::string models;
      for (const auto& v : *verdicts) models += (models.empty() ? "" : ", ") + v.judge_model;
      not_computed(fmt::format("verdicts of several judge models ({}): choose one with --judge-model", models));
      continue;
    } else {
      verdict = &verdicts->front();
    }
    if (verdict->request_hash != hash) {
      not_computed("the stored verdict judged another prediction or prompt: run the judge again");
      continue;
    }
    if (verdict->status == "failed") {
      not_computed(verdict->error);
      continue;
    }
    if (metric.render_parts != nullptr) {
      if (verdict->status != "ok") {
        not_computed(verdict->error);
        continue;
      }
      const nlohmann::json stored = nlohmann::json::parse(verdict->response, nullptr, false);
      std::vector<std::string> answers;
      if (stored.is_array())
        for (const auto& a : stored) answers.push_back(a.is_string() ? a.get<std::string>() : std::string());
      const judged::FanOutScores scores =
          judged::score_fan_out(metric, metric.render_parts(row.prediction, references, metadata), answers);
      if (!scores.ok) {
        not_computed(scores.error);
        continue;
      }
      for (const auto& [name, value] : scores.scores) out.judged[name] = 100.0 * value;
      continue;
    }
    const judged::JudgeParse parse = metric.parse(verdict->response);
    if (verdict->status != "ok" || !parse.ok) {
      not_computed(verdict->error.empty() ? "upstream's parser rejects the stored answer: " + parse.error
                                          : verdict->error);
      continue;
    }
    const double value = 100.0 * parse.score;
    out.judged[metric.name] = value;
    for (const std::string& field : metric.group_by)
      if (metadata.is_object() && metadata.contains(field))
        out.judged_groups[metric.name][field] =
            metadata[field].is_string() ? metadata[field].get<std::string>() : metadata[field].dump();
    if (!metric.combine_with.empty() && out.metric_scores.count(metric.combine_with)) {
      out.metric_scores[metric.name] = value;
      combined = true;
    }
  }
  if (combined) {
    double total = 0;
    for (const auto& [name, value] : out.metric_scores) total += value;
    out.score = total / static_cast<double>(out.metric_scores.size());
  }
}

}  // namespace loom::metrics::report
