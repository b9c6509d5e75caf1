// The job's `judge:` section and `loom_mpi report --judge-*` (docs/judge.md): an OpenAI-compatible chat endpoint
// that answers the judged metrics' official prompts (metrics/judged/judged_metrics.h).
#pragma once

#include <string>
#include <vector>

namespace loom::metrics::judge {

struct JudgeConfig {
  std::string base_url;      // e.g. http://127.0.0.1:8000/v1 (POST <base_url>/chat/completions); empty: no judge
  std::string model;         // sent as "model" and recorded with every verdict (required with base_url)
  std::string api_key_env;   // variable holding the key (empty: no Authorization header)
  int max_concurrency = 8;   // requests in flight at once
  double timeout_s = 120;    // per request
  int max_retries = 4;       // after a timeout, a refused connection, 408, 429 or 5xx (net/retry_policy.h)
  std::vector<std::string> metrics;  // judged metrics to compute; empty: every one that applies

  bool enabled() const { return !base_url.empty(); }
};

}  // namespace loom::metrics::judge
