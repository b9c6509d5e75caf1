#include "metrics/report/aggregation.h"

#include "common/error.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <numeric>
#include <vector>

namespace loom::metrics::report {
namespace {

constexpr std::array<int64_t, 5> kBucketThresholds = {8000, 16000, 32000, 64000, 130000};

// Running sums of one group of samples: total score and per-metric sums.
struct Accumulator {
  double score_sum = 0;
  int64_t samples = 0;
  int64_t unscored = 0;  // rows whose only metrics are judged and not computed (score NaN)
  int64_t failed = 0;
  std::map<std::string, std::pair<double, int64_t>> metric_sums;

  void add(const ScoredRow& row) {
    if (std::isnan(row.score)) ++unscored;
    else score_sum += row.score;
    ++samples;
    if (row.failed) ++failed;
    for (const auto& [metric, value] : row.metric_scores) {
      auto& [sum, count] = metric_sums[metric];
      sum += value;
      ++count;
    }
  }
  // NaN when rows exist but none has a score (a judged benchmark without verdicts): left out of the means above it.
  Score mean() const {
    const int64_t scored = samples - unscored;
    return Score{scored > 0 ? score_sum / static_cast<double>(scored)
                            : (samples > 0 ? std::numeric_limits<double>::quiet_NaN() : 0),
                 samples, failed};
  }
  // LOOM-Scope: a task's score is the mean of its metrics' means.
  Score task_score(std::map<std::string, double>& metrics) const {
    for (const auto& [metric, sum_count] : metric_sums) metrics[metric] = sum_count.first / sum_count.second;
    Score out = mean();
    if (!metrics.empty()) {
      double total = 0;
      for (const auto& [metric, value] : metrics) total += value;
      out.score = total / static_cast<double>(metrics.size());
    }
    return out;
  }
};

std::string target_label(int64_t target_length) {
  if (target_length % 1024 == 0) return std::to_string(target_length / 1024) + "K";
  if (target_length % 1000 == 0) return std::to_string(target_length / 1000) + "k";
  return std::to_string(target_length);
}

// Sample-weighted mean of task scores (weights = task sample counts); a NaN score (nothing scored: a judged task
// without verdicts) is left out, and only NaN scores give NaN.
template <class Scores>
Score weighted(const Scores& scores) {
  Score out;
  double weighted_sum = 0;
  int64_t weight = 0;
  bool any_nan = false;
  for (const Score& s : scores) {
    out.samples += s.samples;
    out.failed += s.failed;
    if (std::isnan(s.score)) {
      any_nan = true;
      continue;
    }
    weighted_sum += s.score * static_cast<double>(s.samples);
    weight += s.samples;
  }
  out.score = weight > 0 ? weighted_sum / static_cast<double>(weight)
                         : (any_nan ? std::numeric_limits<double>::quiet_NaN() : 0);
  return out;
}

// Plain mean leaving NaN out (NaN when every value is NaN, 0 when there is none).
double mean_of_scored(const std::vector<double>& values) {
  double total = 0;
  size_t n = 0;
  for (double v : values)
    if (!std::isnan(v)) {
      total += v;
      ++n;
    }
  if (n > 0) return total / static_cast<double>(n);
  return values.empty() ? 0 : std::numeric_limits<double>::quiet_NaN();
}

// Plain mean of the tasks' official scores, when every task has one.
std::optional<double> official_mean(const std::map<std::string, TaskResult>& tasks, std::set<std::string>& rules) {
  double total = 0;
  for (const auto& [task, t] : tasks) {
    if (!t.official) {
      rules.clear();
      return std::nullopt;
    }
    total += *t.official;
    rules.insert(t.official_rule);
  }
  if (tasks.empty()) return std::nullopt;
  return total / static_cast<double>(tasks.size());
}

// Sums behind MethodCost: per column of cost_columns(), the sum and max over generated rows and the sum over rows
// with a decode step, with the denominators of the per-token figures.
struct CostSums {
  int64_t generated = 0;
  double input_tokens = 0;
  int64_t decode_steps = 0;
  std::vector<double> sum, max, decode_sum;

  CostSums() : sum(cost_columns().size()), max(cost_columns().size()), decode_sum(cost_columns().size()) {}

  void add(const ScoredRow& row) {
    if (!row.generated) return;
    ++generated;
    const bool decoded = row.cost.output_tokens >= 2;
    if (decoded) decode_steps += row.cost.output_tokens - 1;
    input_tokens += static_cast<double>(row.cost.input_tokens);
    const auto& columns = cost_columns();
    for (size_t i = 0; i < columns.size(); ++i) {
      const double value = cost_value(row.cost, columns[i].field);
      sum[i] += value;
      max[i] = std::max(max[i], value);
      if (decoded) decode_sum[i] += value;
    }
  }
  double figure(size_t column) const {
    const CostFigure& f = cost_columns()[column].figure;
    switch (f.aggregation) {
      case CostAggregation::mean: return f.scale * sum[column] / static_cast<double>(generated);
      case CostAggregation::max: return f.scale * max[column];
      case CostAggregation::per_input_token: return input_tokens > 0 ? f.scale * sum[column] / input_tokens : 0;
      case CostAggregation::per_decode_step:
        return decode_steps > 0 ? f.scale * decode_sum[column] / static_cast<double>(decode_steps) : 0;
      case CostAggregation::none: break;
    }
    return 0;
  }
  MethodCost cost() const {
    MethodCost c;
    c.generated = generated;
    c.values.assign(method_cost_figures().size(), 0.0);
    if (generated == 0) return c;
    for (size_t i = 0; i < c.values.size(); ++i) {
      const MethodCostFigure& f = method_cost_figures()[i];
      if (!f.vs_full) c.values[i] = figure(f.column);
    }
    return c;
  }
};

}  // namespace

const std::vector<MethodCostFigure>& method_cost_figures() {
  static const std::vector<MethodCostFigure> figures = [] {
    std::vector<MethodCostFigure> out;
    const auto& columns = cost_columns();
    for (size_t i = 0; i < columns.size(); ++i) {
      const CostFigure& f = columns[i].figure;
      if (f.aggregation == CostAggregation::none) continue;
      out.push_back({f.name, f.label, f.integer, f.display_divisor, f.precision, i, false});
      if (!f.vs_full_name.empty()) out.push_back({f.vs_full_name, f.vs_full_label, false, 1, 3, i, true});
    }
    return out;
  }();
  return figures;
}

double MethodCost::figure(const std::string& name) const {
  const auto& figures = method_cost_figures();
  for (size_t i = 0; i < figures.size() && i < values.size(); ++i)
    if (figures[i].name == name) return values[i];
  throw Error(fmt::format("{} is not a cost figure of the report", name));
}

const std::vector<std::string>& length_bucket_labels() {
  static const std::vector<std::string> labels = {"0-8K", "8-16K", "16-32K", "32-64K", "64-128K", ">128K"};
  return labels;
}

size_t length_bucket_index(int64_t context_length) {
  for (size_t i = kBucketThresholds.size(); i-- > 0;)
    if (context_length > kBucketThresholds[i]) return i + 1;
  return 0;
}

const std::string& length_bucket(int64_t context_length) {
  return length_bucket_labels()[length_bucket_index(context_length)];
}

LengthColumn length_column(int64_t target_length, int64_t context_length) {
  if (target_length > 0) return LengthColumn{target_length, target_label(target_length)};
  const size_t bucket = length_bucket_index(context_length);
  return LengthColumn{bucket == 0 ? 0 : kBucketThresholds[bucket - 1] + 1, length_bucket_labels()[bucket]};
}

Summary aggregate(const std::vector<ScoredRow>& rows) {
  // method → benchmark → task → accumulators (whole task, per length column, per bucket)
  struct TaskSums {
    std::string capability;
    Accumulator total;
    std::map<LengthColumn, Accumulator> lengths;
    std::map<std::string, Accumulator> buckets;
    std::shared_ptr<const OfficialAggregation> official;
    std::vector<TaskSample> samples;  // for the official aggregation
    std::map<std::string, JudgedResult> judged;
  };
  std::map<std::string, std::map<std::string, std::map<std::string, TaskSums>>> sums;
  std::map<std::pair<std::string, std::string>, std::string> benchmark_capability;
  std::map<std::string, CostSums> costs;
  std::map<std::string, std::string> params;
  std::map<std::string, std::map<std::string, std::map<std::pair<LengthColumn, double>, Accumulator>>> depths;
  // method → benchmark → judged metric → instance → (minimum value, rows not computed)
  std::map<std::string, std::map<std::string, std::map<std::string, std::map<std::string, std::pair<double, int64_t>>>>>
      instances;

  Summary summary;
  for (const ScoredRow& row : rows) {
    costs[row.method].add(row);
    params.try_emplace(row.method, row.method_params_json);
    if (row.depth_percent)
      depths[row.method][row.benchmark][{length_column(row.target_length, row.context_length), *row.depth_percent}]
          .add(row);
    TaskSums& task = sums[row.method][row.benchmark][row.task];
    if (task.capability.empty()) task.capability = row.capability;
    benchmark_capability.try_emplace({row.method, row.benchmark}, row.capability);
    task.total.add(row);
    if (task.official == nullptr) task.official = row.official;
    task.samples.push_back({row.sample_index, row.metric_scores});
    task.lengths[length_column(row.target_length, row.context_length)].add(row);
    task.buckets[length_bucket(row.context_length)].add(row);
    for (const auto& [metric, value] : row.judged) {
      JudgedResult& j = task.judged[metric];
      j.score += value;  // a sum until the task is done
      ++j.computed;
      auto groups = row.judged_groups.find(metric);
      if (groups != row.judged_groups.end())
        for (const auto& [field, group_value] : groups->second) {
          JudgedResult::Group& g = j.groups[field][group_value];
          g.score += value;
          ++g.computed;
        }
    }
    for (const auto& [metric, instance] : row.judged_instance) {
      auto& [minimum, missing] = instances[row.method][row.benchmark][metric]
                                     .try_emplace(instance, std::numeric_limits<double>::infinity(), 0)
                                     .first->second;
      auto value = row.judged.find(metric);
      if (value == row.judged.end()) ++missing;
      else minimum = std::min(minimum, value->second);
    }
    for (const auto& [metric, reason] : row.not_computed) {
      JudgedResult& j = task.judged[metric];
      ++j.not_computed;
      ++j.reasons[reason];
    }
    ++summary.rows;
    if (row.failed) {
      ++summary.failed;
      summary.failures.push_back({row.sample_key, row.method, row.benchmark, row.task, row.error});
    }
  }

  for (const auto& [method, benchmarks] : sums) {
    MethodResult& m = summary.methods[method];
    m.params_json = params[method];
    std::map<std::string, std::vector<Score>> bucket_scores;
    for (const auto& [benchmark, tasks] : benchmarks) {
      BenchmarkResult& b = m.benchmarks[benchmark];
      b.capability = benchmark_capability.at({method, benchmark});
      std::vector<Score> task_scores;
      std::map<LengthColumn, std::vector<Score>> column_scores;
      std::map<std::string, std::vector<Score>> task_bucket_scores;
      for (const auto& [task, t] : tasks) {
        TaskResult& result = b.tasks[task];
        result.capability = t.capability;
        result.total = t.total.task_score(result.metrics);
        result.judged = t.judged;
        for (auto& [metric, j] : result.judged) {
          j.score = j.computed > 0 ? j.score / static_cast<double>(j.computed) : 0;
          for (auto& [field, values] : j.groups)
            for (auto& [value, g] : values) g.score /= static_cast<double>(g.computed);
        }
        task_scores.push_back(result.total);
        if (t.official) {
          std::vector<TaskSample> ordered = t.samples;
          std::stable_sort(ordered.begin(), ordered.end(),
                           [](const TaskSample& a, const TaskSample& b) { return a.index < b.index; });
          result.official = t.official->task_score(task, ordered);
          result.official_rule = t.official->rule;
        }
        for (const auto& [column, acc] : t.lengths) {
          std::map<std::string, double> unused;
          result.lengths[column] = acc.task_score(unused);
          column_scores[column].push_back(result.lengths[column]);
        }
        for (const auto& [bucket, acc] : t.buckets) {
          std::map<std::string, double> unused;
          task_bucket_scores[bucket].push_back(acc.task_score(unused));
        }
      }
      b.total = weighted(task_scores);
      for (const auto& [metric, by_instance] : instances[method][benchmark]) {
        BenchmarkResult::JudgedInstances& j = b.judged_instances[metric];
        for (const auto& [instance, value] : by_instance) {
          if (value.second > 0) {
            ++j.incomplete;
            continue;
          }
          j.score += value.first;
          ++j.instances;
        }
        if (j.instances > 0) j.score /= static_cast<double>(j.instances);
      }
      b.official = official_mean(b.tasks, b.official_rules);
      for (const auto& [cell, acc] : depths[method][benchmark]) b.depths[cell] = acc.mean();
      for (const auto& [column, scores] : column_scores) b.lengths[column] = weighted(scores);
      for (const auto& [bucket, scores] : task_bucket_scores) {
        b.buckets[bucket] = weighted(scores);
        bucket_scores[bucket].push_back(b.buckets[bucket]);
      }
      m.samples += b.total.samples;
      m.failed += b.total.failed;
      m.capabilities[b.capability].benchmarks.push_back(benchmark);
    }
    std::vector<double> benchmark_scores;
    for (const auto& [benchmark, b] : m.benchmarks) benchmark_scores.push_back(b.total.score);
    m.overall = mean_of_scored(benchmark_scores);
    for (auto& [capability, c] : m.capabilities) {
      std::vector<double> values;
      for (const auto& benchmark : c.benchmarks) values.push_back(m.benchmarks.at(benchmark).total.score);
      c.score = mean_of_scored(values);
    }
    for (const auto& [bucket, scores] : bucket_scores) {
      Score& s = m.buckets[bucket];
      std::vector<double> values;
      for (const Score& one : scores) {
        values.push_back(one.score);
        s.samples += one.samples;
        s.failed += one.failed;
      }
      s.score = mean_of_scored(values);
    }
    m.cost = costs[method].cost();
  }
  // Ratios to the method labelled "full": figure i is the ratio of the figure just before it (its column's own).
  auto full = summary.methods.find("full");
  if (full != summary.methods.end()) {
    const auto& figures = method_cost_figures();
    for (size_t i = 1; i < figures.size(); ++i) {
      if (!figures[i].vs_full) continue;
      const double base = full->second.cost.values[i - 1];
      if (base <= 0) continue;
      for (auto& [method, m] : summary.methods) m.cost.values[i] = m.cost.values[i - 1] / base;
    }
  }
  return summary;
}

}  // namespace loom::metrics::report
