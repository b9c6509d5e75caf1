// Test double of model::InferenceEngine for dispatcher and worker tests: no model. The "prediction" is
// "len=<input tokens> first=<first id>"; a request whose sample_key contains "fail" fails with a reason, one
// containing "throw" makes run() throw; an optional sleep per input token imitates work.
#pragma once

#include "rank/model/inference_engine.h"

#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace loom::testing {

class FakeEngine : public model::InferenceEngine {
 public:
  explicit FakeEngine(double seconds_per_token = 0) : seconds_per_token_(seconds_per_token) {}

  std::vector<model::InferenceResult> run(const std::vector<model::InferenceRequest>& batch) override {
    ++calls_;
    batches_.emplace_back();
    for (const auto& request : batch) batches_.back().push_back(request.sample_key);
    std::vector<model::InferenceResult> results;
    for (const auto& request : batch) {
      if (request.sample_key.find("throw") != std::string::npos) throw std::runtime_error("fake engine exploded");
      model::InferenceResult result;
      result.sample_key = request.sample_key;
      result.input_tokens = static_cast<int64_t>(request.input_ids.size());
      if (seconds_per_token_ > 0) {
        std::this_thread::sleep_for(std::chrono::duration<double>(seconds_per_token_ * request.input_ids.size()));
      }
      if (request.sample_key.find("fail") != std::string::npos) {
        result.ok = false;
        result.error = "fake engine: out of memory";
      } else {
        result.text = "len=" + std::to_string(request.input_ids.size()) +
                      " first=" + (request.input_ids.empty() ? "-" : std::to_string(request.input_ids[0]));
        result.output_ids = {1, 2, 3};
        result.prefill_seconds = 0.001;
        result.decode_seconds = 0.002;
      }
      results.push_back(result);
    }
    return results;
  }
  std::string device_description() const override { return "fake"; }
  int calls() const { return calls_; }
  const std::vector<std::vector<std::string>>& batches() const { return batches_; }  // sample keys per run()

 private:
  std::vector<std::vector<std::string>> batches_;
  double seconds_per_token_;
  int calls_ = 0;
};

}  // namespace loom::testing
