// Test-double scorers for the metrics-pass tests (the real ones live in loom_metrics and have their own tests):
//   exact  — 1 when the prediction equals one of the references
//   half   — always 0.5
//   throws — throws (a scorer rejecting a sample's metadata)
#pragma once

#include "common/error.h"
#include "metrics/scorer.h"

#include <algorithm>
#include <memory>
#include <stdexcept>

namespace loom::metrics::testing {

class FixedScorer final : public Scorer {
 public:
  explicit FixedScorer(std::string name) : name_(std::move(name)) {}
  std::string name() const override { return name_; }
  double score(const std::string& prediction, const std::vector<std::string>& references,
               const nlohmann::json& metadata) const override {
    if (name_ == "exact")
      return std::find(references.begin(), references.end(), prediction) != references.end() ? 1.0 : 0.0;
    if (name_ == "half") return 0.5;
    throw std::runtime_error("metadata lacks all_classes");
  }

 private:
  std::string name_;
};

inline std::unique_ptr<Scorer> make_test_scorer(const std::string& name) {
  if (name == "exact" || name == "half" || name == "throws") return std::make_unique<FixedScorer>(name);
  throw InputError("test", 0, "metric", "exact, half or throws (got '" + name + "')");
}

}  // namespace loom::metrics::testing
