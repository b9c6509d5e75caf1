#include "scheduler/failure_summary.h"

#include <fmt/format.h>

#include <algorithm>

namespace loom::scheduler {

FailureSummary summarize_failures(const std::vector<results::ResultRow>& rows,
                                  const std::map<std::string, std::string>& job_keys, int max_attempts) {
  FailureSummary summary;
  std::map<std::string, int64_t> reasons;
  for (const results::ResultRow& row : rows) {
    if (!job_keys.count(row.sample_key)) continue;
    ++summary.rows;
    if (row.status == "ok") continue;
    ++summary.failed;
    if (row.attempts >= max_attempts) ++summary.exhausted;
    std::string reason = row.error.empty() ? std::string("(no reason recorded)") : row.error;
    if (reason.size() > 160) reason = reason.substr(0, 157) + "...";
    ++reasons[reason];
  }
  summary.reasons.assign(reasons.begin(), reasons.end());
  std::stable_sort(summary.reasons.begin(), summary.reasons.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  if (summary.reasons.size() > 3) summary.reasons.resize(3);
  return summary;
}

std::string describe_failures(const FailureSummary& summary, int max_attempts) {
  if (summary.failed == 0) return {};
  std::string text = fmt::format("{} of {} rows failed; commonest reasons:\n", summary.failed, summary.rows);
  for (const auto& [reason, count] : summary.reasons) text += fmt::format("  {} x {}\n", count, reason);
  const int64_t retryable = summary.failed - summary.exhausted;
  if (retryable > 0)
    text += fmt::format("rerun the job to retry {} of them (a row is tried at most max_attempts = {} times)\n",
                        retryable, max_attempts);
  if (summary.exhausted > 0)
    text += fmt::format("{} were tried {} times (max_attempts) and are no longer retried; raise max_attempts or "
                        "start over with resume: false\n",
                        summary.exhausted, max_attempts);
  return text;
}

}  // namespace loom::scheduler
