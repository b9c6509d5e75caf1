#include "scheduler/progress.h"

#include <fmt/format.h>

#include <cmath>

namespace loom::scheduler {

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const auto total = static_cast<int64_t>(std::llround(seconds));
  if (total >= 3600) return fmt::format("{}h{:02}m", total / 3600, (total % 3600) / 60);
  if (total >= 60) return fmt::format("{}m{:02}s", total / 60, total % 60);
  return fmt::format("{}s", total);
}

ProgressReporter::ProgressReporter(int64_t total, double total_predicted_seconds, double interval_s, Sink sink)
    : total_(total),
      total_predicted_(total_predicted_seconds),
      interval_s_(interval_s),
      sink_(std::move(sink)),
      start_(Clock::now()),
      last_report_(start_) {}

void ProgressReporter::record(bool ok, int64_t tokens, double predicted_seconds) {
  ++done_;
  if (!ok) ++failed_;
  tokens_ += tokens;
  predicted_done_ += predicted_seconds;
}

double ProgressReporter::elapsed_seconds() const {
  return std::chrono::duration<double>(Clock::now() - start_).count();
}

std::string ProgressReporter::line() const {
  const double elapsed = elapsed_seconds();
  const double percent = total_ > 0 ? 100.0 * static_cast<double>(done_) / static_cast<double>(total_) : 100.0;
  const double tokens_per_s = elapsed > 0 ? static_cast<double>(tokens_) / elapsed : 0;
  double eta = -1;
  if (done_ >= total_) {
    eta = 0;
  } else if (predicted_done_ > 0 && elapsed > 0) {
    eta = (total_predicted_ - predicted_done_) * elapsed / predicted_done_;
  }
  return fmt::format("progress: {}/{} samples ({:.1f}%), {} failed, {:.1f} tok/s, elapsed {}, ETA {}", done_, total_,
                     percent, failed_, tokens_per_s, format_duration(elapsed), format_duration(eta));
}

void ProgressReporter::maybe_report() {
  const auto now = Clock::now();
  if (std::chrono::duration<double>(now - last_report_).count() < interval_s_) return;
  last_report_ = now;
  sink_(line());
}

void ProgressReporter::report_now() {
  last_report_ = Clock::now();
  sink_(line());
}

}  // namespace loom::scheduler
