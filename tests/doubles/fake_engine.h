// Test double of model::InferenceEngine for dispatcher and worker tests: no model, continuous batching semantics.
// submit() queues requests (each call is recorded as one submission); every third step() finishes the oldest
// request (FIFO), optionally sleeping seconds_per_token per input token, so requests overlap as in a real engine. The "prediction" is "len=<input tokens> first=<first id>";
// a request whose sample_key contains "fail" fails with a reason; one containing "throw" makes step() throw (and
// is dropped). load(): max_running - held free slots (0 while more than `waiting_limit` requests wait), and
// kv_budget - held tokens (prompt + max_new_tokens of each) free KV tokens. batches() and batch_prompt_ids() record
// each submission's sample keys and engine prompt ids.
#pragma once

#include "rank/model/inference_engine.h"

#include <algorithm>
#include <chrono>
#include <deque>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace loom::testing {

class FakeEngine : public model::InferenceEngine {
 public:
  explicit FakeEngine(double seconds_per_token = 0, int max_running = 1, int64_t kv_budget = int64_t{1} << 40)
      : seconds_per_token_(seconds_per_token), max_running_(max_running), kv_budget_(kv_budget) {}

  void submit(std::vector<model::InferenceRequest> requests) override {
    batches_.emplace_back();
    batch_prompt_ids_.emplace_back();
    for (auto& request : requests) {
      batches_.back().push_back(request.sample_key);
      batch_prompt_ids_.back().push_back(request.prompt_id);
      held_tokens_ += tokens(request);
      queue_.push_back(std::move(request));
    }
    max_held_ = std::max<int>(max_held_, static_cast<int>(queue_.size()));
    max_held_tokens_ = std::max(max_held_tokens_, held_tokens_);
  }

  std::vector<model::InferenceResult> step() override {
    std::vector<model::InferenceResult> results;
    if (queue_.empty() || ++steps_ % 3 != 0) return results;
    model::InferenceRequest request = std::move(queue_.front());
    queue_.pop_front();
    held_tokens_ -= tokens(request);
    if (request.sample_key.find("throw") != std::string::npos) throw std::runtime_error("fake engine exploded");
    model::InferenceResult result;
    result.tag = request.tag;
    result.sample_key = request.sample_key;
    result.cost.input_tokens = static_cast<int64_t>(request.input_ids.size());
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
      result.cost.output_tokens = 3;
      result.cost.prefill_seconds = 0.001;
      result.cost.decode_seconds = 0.002;
    }
    results.push_back(result);
    return results;
  }

  model::EngineLoad load() const override {
    model::EngineLoad load;
    load.running = static_cast<int32_t>(queue_.size());
    load.free_slots = std::max(0, max_running_ - load.running);
    load.free_kv_tokens = std::max<int64_t>(0, kv_budget_ - held_tokens_);
    return load;
  }
  bool idle() const override { return queue_.empty(); }
  std::string device_description() const override { return "fake"; }

  const std::vector<std::vector<std::string>>& batches() const { return batches_; }  // keys per submit()
  const std::vector<std::vector<int64_t>>& batch_prompt_ids() const { return batch_prompt_ids_; }
  int max_held() const { return max_held_; }
  int64_t max_held_tokens() const { return max_held_tokens_; }

 private:
  static int64_t tokens(const model::InferenceRequest& r) {
    return static_cast<int64_t>(r.input_ids.size()) + r.generation.max_new_tokens;
  }

  std::deque<model::InferenceRequest> queue_;
  std::vector<std::vector<std::string>> batches_;
  std::vector<std::vector<int64_t>> batch_prompt_ids_;
  double seconds_per_token_;
  int max_running_;
  int64_t kv_budget_;
  int64_t held_tokens_ = 0;
  int64_t steps_ = 0;
  int max_held_ = 0;
  int64_t max_held_tokens_ = 0;
};

}  // namespace loom::testing
