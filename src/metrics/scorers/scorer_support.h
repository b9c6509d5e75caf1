// Building blocks for the scorer families: a Scorer wrapping a function, the table entry each family exports,
// and small helpers for the official "max over references" rule and for reading scorer metadata.
#pragma once

#include "metrics/scorer.h"

#include <functional>
#include <string>
#include <vector>

namespace loom::metrics {

using ScoreFunction =
    std::function<double(const std::string& prediction, const std::vector<std::string>& references,
                         const nlohmann::json& metadata)>;

struct ScorerEntry {
  ScorerEntry(std::string entry_name, ScoreFunction entry_function,
              std::shared_ptr<const OfficialAggregation> entry_aggregation = nullptr)
      : name(std::move(entry_name)), function(std::move(entry_function)), aggregation(std::move(entry_aggregation)) {}
  std::string name;
  ScoreFunction function;
  std::shared_ptr<const OfficialAggregation> aggregation;  // null: none
};

class FunctionScorer : public Scorer {
 public:
  explicit FunctionScorer(ScorerEntry entry) : entry_(std::move(entry)) {}
  std::string name() const override { return entry_.name; }
  double score(const std::string& prediction, const std::vector<std::string>& references,
               const nlohmann::json& metadata) const override {
    return entry_.function(prediction, references, metadata);
  }
  std::shared_ptr<const OfficialAggregation> aggregation() const override { return entry_.aggregation; }

 private:
  ScorerEntry entry_;
};

// An official aggregation that is the mean over samples of the row's metrics (BABILong's 100·correct/N,
// LongBench's and InfiniteBench's means), described by `rule`.
std::shared_ptr<const OfficialAggregation> mean_aggregation(std::string rule);
// The mean over `samples` of each sample's mean metric score (0–100); 0 for no samples.
double mean_task_score(const std::vector<TaskSample>& samples);
// Gives every entry of a family the same aggregation.
std::vector<ScorerEntry> with_aggregation(std::vector<ScorerEntry> entries,
                                          const std::shared_ptr<const OfficialAggregation>& aggregation);

// max(0, f(prediction, r) for r in references), the loop LongBench / LEval / InfiniteBench use.
double max_over_references(const std::vector<std::string>& references,
                           const std::function<double(const std::string&)>& per_reference);

// metadata[key] as a string / bool / list of strings; `fallback` when absent or null.
std::string metadata_string(const nlohmann::json& metadata, const std::string& key, const std::string& fallback = "");
bool metadata_bool(const nlohmann::json& metadata, const std::string& key, bool fallback = false);
std::vector<std::string> metadata_strings(const nlohmann::json& metadata, const std::string& key);
// A JSON value rendered as Python's str() would (strings unquoted, integers plain) — for fields the official
// scorers cast with str().
std::string python_str(const nlohmann::json& value);

// Families (one file each under scorers/).
std::vector<ScorerEntry> longbench_scorers();
std::vector<ScorerEntry> ruler_scorers();
std::vector<ScorerEntry> infinitebench_scorers();
std::vector<ScorerEntry> babilong_scorers();
std::vector<ScorerEntry> counting_stars_scorers();
std::vector<ScorerEntry> longbench_v2_scorers();
std::vector<ScorerEntry> lveval_scorers();
std::vector<ScorerEntry> leval_scorers();
std::vector<ScorerEntry> libra_scorers();
std::vector<ScorerEntry> longwriter_scorers();
std::vector<ScorerEntry> lciteeval_scorers();
std::vector<ScorerEntry> niah_scorers();
std::vector<ScorerEntry> nthread_scorers();
std::vector<ScorerEntry> longins_scorers();
std::vector<ScorerEntry> ada_leval_scorers();
std::vector<ScorerEntry> loogle_scorers();
std::vector<ScorerEntry> clongeval_scorers();
std::vector<ScorerEntry> nolima_scorers();
std::vector<ScorerEntry> bamboo_scorers();
std::vector<ScorerEntry> longhealth_scorers();

}  // namespace loom::metrics
