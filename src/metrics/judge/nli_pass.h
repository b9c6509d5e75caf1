// The NLI pass over a results file (end of a run with `judge.nli`, and `loom_mpi report --nli-url`): L-CiteEval's
// citation recall / precision (metrics/judged/lciteeval_citation.h) need entailment checks whose later ones depend
// on earlier answers (precision checks only statements their citations entail). The pass evaluates every ok
// L-CiteEval row of an NLI task with the answers stored so far, sends every check still missing (deduplicated over
// the file: one (premise, hypothesis) is asked once) as TRUE's text to <nli.base_url>/completions, journals each
// answer as a verdict (results/verdicts.h: metric lciteeval_nli, sample_key "nli:<hash>", the NLI model), and
// repeats until nothing is missing. With a local model (judge.nli.model naming a directory, NliConfig::local()) the
// checks are classified on this process by the installed classifier (nli_classifier.h, upstream's own rule) instead:
// each verdict's response is the predicted label, stored and reused exactly like an endpoint's answer. A check that
// gets no answer (transport error, timeout after the retries, HTTP error, a body that is not a completion; a pair
// the local classifier cannot take) becomes a `failed` verdict with the reason: the rows needing it are not
// computed, and the next pass asks it again. Nothing here fails the job; a dead server costs the timeouts only.
#pragma once

#include "metrics/judge/judge_config.h"

#include <cstdint>
#include <filesystem>
#include <ostream>
#include <string>

namespace loom::metrics::judge {

struct NliPassResult {
  int64_t rows = 0;          // L-CiteEval rows of NLI tasks evaluated
  int64_t reused = 0;        // distinct checks answered by stored verdicts
  int64_t asked = 0;         // distinct checks sent this time
  int64_t ok = 0, failed = 0;
  int64_t requests = 0;      // HTTP requests (retries included), or local classifications
  int rounds = 0;            // rounds of asking
  bool skipped = false;      // another process holds the results file
  std::string note;
};

// Throws loom::Error only for an unreadable results file (and InputError for a local model directory that cannot be
// loaded, before anything is asked); prints one summary line to `out`. Uses config.nli for the
// endpoint and config's max_concurrency / timeout_s / max_retries.
NliPassResult run_nli_pass(const std::filesystem::path& results_path, const JudgeConfig& config, std::ostream& out);

}  // namespace loom::metrics::judge
