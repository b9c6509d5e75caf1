// The end-of-run account of failed rows (docs/trust.md, "Failures and exit codes"): how many rows of the job are
// stored as failed, how many of them have used up max_attempts (reruns no longer retry them), and the commonest
// reasons. A run that ends with failed rows exits with code 3 after printing this.
#pragma once

#include "results/result_row.h"

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace loom::scheduler {

struct FailureSummary {
  int64_t rows = 0;       // rows of the job that are stored
  int64_t failed = 0;     // of them, failed
  int64_t exhausted = 0;  // failed rows tried max_attempts times: reruns leave them
  std::vector<std::pair<std::string, int64_t>> reasons;  // commonest first, at most 3
};

// job_keys: sample_key -> anything, the rows of this job (rows of other jobs in the file are not counted).
FailureSummary summarize_failures(const std::vector<results::ResultRow>& rows,
                                  const std::map<std::string, std::string>& job_keys, int max_attempts);

// Lines for stderr, e.g. "3 of 12 rows failed; commonest reasons: ...; rerun to retry them (...)".
std::string describe_failures(const FailureSummary& summary, int max_attempts);

}  // namespace loom::scheduler
