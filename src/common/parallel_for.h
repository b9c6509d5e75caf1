// Runs fn(0) … fn(count - 1) on a fixed number of threads (the caller's thread among them), for work whose items
// are independent pure functions of their index (rank 0's preparation: drafting and tokenizing samples). Items are
// handed out in index order from one shared counter; each writes only its own result slot, so the caller's output
// order (and content) is the serial one whatever the thread count.
// An item that throws does not stop the others already running; once all are done, the exception of the lowest
// failing index is rethrown (the one the serial loop would have met first). Items after it may still have run.
#pragma once

#include <cstddef>
#include <exception>
#include <functional>
#include <vector>

namespace loom {

// The thread count for CPU work on this host: std::thread::hardware_concurrency (at least 1).
int hardware_threads();

// threads <= 1 or count <= 1: a plain serial loop on the calling thread (stops at the first exception).
void parallel_for(std::size_t count, int threads, const std::function<void(std::size_t index)>& fn);

// The results of makers[0]() … makers[n - 1](), in that order, made on `threads` threads. For a serial loop split
// into a listing pass (which may stop at an error: listing_error, after the makers it listed) and the makers: the
// first error in the serial loop's order is rethrown, a maker's (the lowest failing one) before listing_error.
template <class T>
std::vector<T> parallel_make(const std::vector<std::function<T()>>& makers, int threads,
                             std::exception_ptr listing_error = nullptr) {
  std::vector<T> out(makers.size());
  parallel_for(makers.size(), threads, [&](std::size_t i) { out[i] = makers[i](); });
  if (listing_error) std::rethrow_exception(listing_error);
  return out;
}

}  // namespace loom
