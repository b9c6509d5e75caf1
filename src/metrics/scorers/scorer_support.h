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
  std::string name;
  ScoreFunction function;
};

class FunctionScorer : public Scorer {
 public:
  FunctionScorer(std::string name, ScoreFunction function) : name_(std::move(name)), function_(std::move(function)) {}
  std::string name() const override { return name_; }
  double score(const std::string& prediction, const std::vector<std::string>& references,
               const nlohmann::json& metadata) const override {
    return function_(prediction, references, metadata);
  }

 private:
  std::string name_;
  ScoreFunction function_;
};

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

}  // namespace loom::metrics
