// The judge pass over a results file (end of a run with `judge:`, and `loom_mpi report --judge-url`): for every ok
// row and every judged metric that applies to it (its benchmark), renders upstream's prompt, and unless a verdict
// for (sample_key, metric, judge model) with the same request is stored already (ok or unparsed), asks the judge
// through net::HttpClient (max_concurrency in flight, net::RetryPolicy: backoff, Retry-After, timeouts). An answer
// upstream's parser rejects is asked again up to the metric's max_tries, as upstream does. Each verdict is appended
// to the verdict journal (results/verdicts.h) as it arrives, so a killed pass keeps what it had. A request that
// gets no answer becomes a `failed` verdict with the reason, asked again by the next pass; nothing here fails the
// job. The next metrics pass folds the journal into /judge. A fan-out metric (LongCite: judged_metrics.h
// `render_parts`) sends each of a row's parts as its own request, retried on its own, and records one verdict once
// the last part is done (its answers as a JSON array; a row with no part to ask is recorded at once).
#pragma once

#include "metrics/judge/judge_config.h"

#include <filesystem>
#include <ostream>

namespace loom::metrics::judge {

struct JudgePassResult {
  int64_t applicable = 0;  // (row, metric) pairs the configured metrics apply to
  int64_t reused = 0;      // stored verdicts used as they are
  int64_t asked = 0;       // pairs sent to the judge this time
  int64_t ok = 0, unparsed = 0, failed = 0, unrenderable = 0;  // outcomes of this pass
  int64_t requests = 0;    // HTTP requests sent (retries and re-asks included)
  bool skipped = false;    // another process holds the results file (a running job): nothing asked
  std::string note;        // why it was skipped
};

// Throws loom::Error only for an unreadable results file; prints one summary line to `out`.
JudgePassResult run_judge_pass(const std::filesystem::path& results_path, const JudgeConfig& config,
                               std::ostream& out);

}  // namespace loom::metrics::judge
