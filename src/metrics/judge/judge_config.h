// The job's `judge:` section and `loom_mpi report --judge-*` (docs/judge.md): an OpenAI-compatible chat endpoint
// that answers the judged metrics' official prompts (metrics/judged/judged_metrics.h).
#pragma once

#include <string>
#include <vector>

namespace loom::metrics::judge {

// judge.nli (docs/judge.md): an OpenAI-compatible completions endpoint (POST <base_url>/completions) serving an NLI
// model that answers TRUE's "premise: <P> hypothesis: <H>" with "1" for entailed (google/t5_xxl_true_nli_mixture),
// for L-CiteEval's citation recall / precision (metrics/judged/lciteeval_citation.h, metrics/judge/nli_pass.h).
// Requests share the judge's max_concurrency, timeout_s and max_retries.
struct NliConfig {
  std::string base_url;     // e.g. http://127.0.0.1:8001/v1; empty: no NLI
  std::string model;        // sent as "model" and recorded with every answer (required with base_url)
  std::string api_key_env;  // variable holding the key (empty: no Authorization header)

  bool enabled() const { return !base_url.empty(); }
};

struct JudgeConfig {
  std::string base_url;      // e.g. http://127.0.0.1:8000/v1 (POST <base_url>/chat/completions); empty: no judge
  std::string model;         // sent as "model" and recorded with every verdict (required with base_url)
  std::string api_key_env;   // variable holding the key (empty: no Authorization header)
  int max_concurrency = 8;   // requests in flight at once
  double timeout_s = 120;    // per request
  int max_retries = 4;       // after a timeout, a refused connection, 408, 429 or 5xx (net/retry_policy.h)
  std::vector<std::string> metrics;  // judged metrics to compute; empty: every one that applies
  NliConfig nli;                     // judge.nli: the NLI endpoint of L-CiteEval's citation metrics

  bool enabled() const { return !base_url.empty(); }
};

}  // namespace loom::metrics::judge
