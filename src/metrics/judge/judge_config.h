// The job's `judge:` section and `loom_mpi report --judge-*` (docs/judge.md): an OpenAI-compatible chat endpoint
// that answers the judged metrics' official prompts (metrics/judged/judged_metrics.h).
#pragma once

#include <string>
#include <vector>

namespace loom::metrics::judge {

// judge.nli (docs/judge.md): the NLI model of L-CiteEval's citation recall / precision (metrics/judged/
// lciteeval_citation.h, metrics/judge/nli_pass.h), either
//  - local (model_dir set): a DeBERTa-v2 sequence classifier directory run by the NLI pass on rank 0, upstream's own
//    rule (tasksource/deberta-base-long-nli through a text-classification pipeline: the label "entailment" is
//    entailed; metrics/judge/nli_classifier.h); `model` is then the directory's name, stored with every answer; or
//  - an OpenAI-compatible completions endpoint (POST <base_url>/completions) serving an NLI model that answers
//    TRUE's "premise: <P> hypothesis: <H>" with "1" for entailed (google/t5_xxl_true_nli_mixture); requests share
//    the judge's max_concurrency, timeout_s and max_retries.
struct NliConfig {
  std::string base_url;     // e.g. http://127.0.0.1:8001/v1; empty: no endpoint
  std::string model;        // the name sent (endpoint) and recorded with every answer (both)
  std::string api_key_env;  // variable holding the key (empty: no Authorization header)
  std::string model_dir;    // the local classifier's directory (config.json, model.safetensors, spm.model)
  std::string device = "cpu";  // where the local classifier runs: cpu, cuda or cuda:N

  bool local() const { return !model_dir.empty(); }
  bool enabled() const { return !base_url.empty() || local(); }
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
