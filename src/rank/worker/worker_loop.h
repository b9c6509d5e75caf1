// The loop every rank runs inside its tensor-parallel group (docs/architecture.md, "Workers"): continuous batching.
//  * Each iteration the group leader (group rank 0) talks to the dispatcher (world rank 0) when it has finished
//    outcomes to deliver or its engine has room (EngineLoad::free_slots), sending a WorkRequest and receiving a
//    WorkAssignment; it broadcasts the assignment to its group, every rank submits the items to its engine and
//    runs one engine step (one prefill chunk and/or one decode step), so TP ranks stay in lockstep (the engine's
//    collectives need all of them).
//  * An assignment carries each prompt once; every item becomes an engine request with its prompt's ids and an
//    engine prompt id derived from the PromptId (2p for the prompt, 2p+1 for its follow-up), so the engine shares
//    one prefill among a sweep's methods by comparing ids, not token vectors.
//  * Items whose prompt has a follow-up (Prompt::followup_ids) submit a second request; the outcome is sent when
//    both are done, the follow-up's text joined to the prediction.
//  * Items whose prompt chains a second generation (Prompt::has_chain) submit it when the first is done: its input
//    is WorkerOptions::encode of chain_before + the first output (stripped) + chain_after, with no engine prompt
//    identity (never a shared prefill) and no question split (the whole prompt under the item's method). The
//    outcome's prediction is the second output and first_output the first; the item fails if either fails.
//  * A failing request (engine result !ok, or step() throwing) becomes a failed WorkOutcome with the reason; the
//    loop goes on. A group whose engine could not be created reports `load_error` on its first request and leaves.
//  * Once told stop, the group finishes what it holds, then sends a retiring request and leaves.
//  * Waits are patient (poll + sleep) so waiting ranks leave the CPU to ranks that compute.
#pragma once

#include "common/mpi/mpi_comm.h"
#include "rank/model/inference_engine.h"
#include "protocol/work_messages.h"

#include <functional>
#include <string>
#include <vector>

namespace loom::worker {

// The model's tokenizer: text → ids (with the tokenizer's special tokens when add_special_tokens), for the inputs
// of chained generations, which depend on a first output and so cannot be tokenized on rank 0 beforehand.
using TextEncoder = std::function<std::vector<int32_t>(const std::string& text, bool add_special_tokens)>;

struct WorkerOptions {
  int group_index = 0;
  int dispatcher_rank = 0;  // world rank of the dispatcher
  mpi::WaitPolicy wait = mpi::WaitPolicy::patient(2000);
  TextEncoder encode;  // needed only by prompts with a chained generation (an item without one fails)
};

struct WorkerSummary {
  int64_t assignments = 0;  // non-empty assignments received
  int64_t items = 0;
  int64_t failed = 0;
  int64_t steps = 0;        // engine steps
};

// engine may be null only when load_error is non-empty (the whole group must agree; see agree_on_load()).
WorkerSummary run_worker_loop(const mpi::Comm& world, const mpi::Comm& group, model::InferenceEngine* engine,
                              const std::string& load_error, const WorkerOptions& options);

// Collective over the group: every member passes its own load error (empty when its engine loaded); returns the
// group's verdict (empty if all loaded), so all members take the same path.
std::string agree_on_load(const mpi::Comm& group, const std::string& own_error);

// Runs a batch's items to completion through the engine (submit, step until idle) and converts the results, in the
// items' order; never throws for a per-request failure. Items whose prompt has a follow-up get a second request,
// joined to the prediction; items whose prompt chains a second generation get it once the first is done (encode
// tokenizes its input); the item fails if either fails. (The worker loop does the same step by step; tests and
// tools use this.)
std::vector<protocol::WorkOutcome> run_batch(model::InferenceEngine& engine, const protocol::WorkAssignment& batch,
                                             int world_rank, int group_index, const TextEncoder& encode = {});

// Python's str.strip() of ASCII text: removes leading and trailing whitespace (space, \t, \n, \v, \f, \r and
// \x1c-\x1f; pred.py strips the chain of thought before it enters the second prompt).
std::string strip_output(const std::string& text);

// The engine's prompt identity of a protocol prompt (follow_up: its follow-up generation's prompt).
int64_t engine_prompt_id(protocol::PromptId prompt, bool follow_up);

}  // namespace loom::worker
