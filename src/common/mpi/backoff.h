// Poll-and-sleep back-off for loops that wait on MPI without blocking inside it: a few sched_yield() calls first
// (low latency), then sleeps doubling from 10 µs up to a ceiling. reset() after useful work.
#pragma once

#include <sched.h>

#include <algorithm>
#include <chrono>
#include <thread>

namespace loom::mpi {

class Backoff {
 public:
  explicit Backoff(int max_sleep_us = 2000) : max_sleep_us_(std::max(1, max_sleep_us)) {}
  void pause() {
    if (polls_++ < 64) {
      sched_yield();
      return;
    }
    std::this_thread::sleep_for(std::chrono::microseconds(sleep_us_));
    sleep_us_ = std::min(sleep_us_ * 2, max_sleep_us_);
  }
  void reset() {
    polls_ = 0;
    sleep_us_ = 10;
  }

 private:
  int max_sleep_us_;
  int polls_ = 0;
  int sleep_us_ = 10;
};

}  // namespace loom::mpi
