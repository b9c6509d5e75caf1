// Progress of a running job on rank 0: samples done/total, failures, tokens/s and an ETA from the predicted cost
// still to run (longest-first dispatch makes count-based ETAs far too pessimistic early on). maybe_report() emits a
// line when the interval has passed; the caller decides where lines go (spdlog on rank 0).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

namespace loom::scheduler {

class ProgressReporter {
 public:
  using Clock = std::chrono::steady_clock;
  using Sink = std::function<void(const std::string&)>;

  ProgressReporter(int64_t total, double total_predicted_seconds, double interval_s, Sink sink);

  void record(bool ok, int64_t tokens, double predicted_seconds);
  void maybe_report();        // emits line() if interval_s has passed since the last line
  void report_now();          // emits line() unconditionally
  std::string line() const;

  int64_t done() const { return done_; }
  int64_t failed() const { return failed_; }
  double elapsed_seconds() const;

 private:
  int64_t total_;
  double total_predicted_;
  double interval_s_;
  Sink sink_;
  Clock::time_point start_;
  Clock::time_point last_report_;
  int64_t done_ = 0;
  int64_t failed_ = 0;
  int64_t tokens_ = 0;
  double predicted_done_ = 0;
};

// "1h02m", "3m05s", "42s"
std::string format_duration(double seconds);

}  // namespace loom::scheduler
