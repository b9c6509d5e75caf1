// The rank 0 <-> worker protocol (docs/architecture.md, "Protocol and prompt flow"). Plain structs serialized with
// Boost.Serialization; each travels under one MessageTag (src/common/mpi/message_tag.h):
//   leader -> rank 0   kWorkRequest     WorkRequest   (finished outcomes, and how much more the group can take)
//   rank 0 -> leader   kWorkAssignment  WorkAssignment (items that fit, each distinct prompt once, or "no more work")
//   leader -> group    broadcast         WorkAssignment (the same items, so every TP rank submits them)
// Groups run continuous batching: a leader sends a request when outcomes are ready or its engine has room, and
// gets an answer to every request. Once told `stop` (the queue is empty) it finishes what it holds and sends a
// last request with `retiring`, answered with `retire`, and leaves.
// Prompts have an identity: rank 0 numbers each sample's Prompt when it tokenizes it (PromptTable), and a WorkItem
// (one per sample and method) points to its prompt by PromptId. An assignment carries every prompt its items use,
// once, so a sweep's methods share one copy on the wire, and the worker and engine group batch mates by PromptId.
// Rank 0 keeps each item's descriptive fields (benchmark, task, references, ...) and joins them with the
// WorkOutcome into a results::ResultRow, so only ids and numbers cross the network.
#pragma once

#include "common/generation_settings.h"
#include "common/sample_cost.h"

#include <cstdint>
#include <string>
#include <vector>

namespace loom::protocol {

// Unique within one job's preparation on rank 0 (0, 1, 2, ... in tokenization order).
using PromptId = int64_t;
inline constexpr PromptId kNoPrompt = -1;

// One sample's model input, the same for every method of a sweep.
struct Prompt {
  PromptId id = kNoPrompt;
  std::vector<int32_t> input_ids;
  // Optional second generation (benchmarks::Sample::followup_prompt), run in the same batch; its output is joined to
  // the prediction as followup_prefix + output + followup_suffix.
  std::vector<int32_t> followup_ids;
  std::string followup_prefix;
  std::string followup_suffix;
  // The last question_tokens of input_ids are the question (a prompt built for query_aware: false methods, whose
  // context is compressed before the question is fed); 0: no split.
  int64_t question_tokens = 0;
  // Optional second generation that depends on the first's output (benchmarks::Sample::chain_prompt), run by the
  // worker once the first is done: the input is the tokenizer's encoding of chain_before + the first output
  // stripped of surrounding whitespace + chain_after (with its special tokens when chain_add_special_tokens), the
  // item's generation settings with max_new_tokens = chain_max_new_tokens. The prediction is its output; the first
  // output travels beside it (WorkOutcome::first_output). chain_tokens: the input's tokens without the first output
  // (rank 0's count, for the KV room and the cost). chain_max_new_tokens 0: no chained generation.
  std::string chain_before;
  std::string chain_after;
  bool chain_add_special_tokens = false;
  int32_t chain_max_new_tokens = 0;
  int64_t chain_tokens = 0;

  bool has_chain() const { return chain_max_new_tokens > 0; }

  template <class Archive>
  void serialize(Archive& ar, unsigned /*version*/) {
    ar & id & input_ids & followup_ids & followup_prefix & followup_suffix & question_tokens & chain_before &
        chain_after & chain_add_special_tokens & chain_max_new_tokens & chain_tokens;
  }
};

// One (sample, method): what to run on the prompt it points to.
struct WorkItem {
  std::string sample_key;
  PromptId prompt_id = kNoPrompt;
  GenerationSettings generation;
  MethodSpec method;
  double predicted_seconds = 0;

  template <class Archive>
  void serialize(Archive& ar, unsigned /*version*/) {
    ar & sample_key & prompt_id & generation & method & predicted_seconds;
  }
};

struct WorkOutcome {
  std::string sample_key;
  bool ok = true;
  std::string error;
  std::string prediction;
  std::string first_output;  // the first generation's output when the prompt chains a second (Prompt::has_chain)
  SampleCost cost;    // the engine's record (common/sample_cost.h), serialized by its column table
  int32_t rank = 0;   // world rank of the group leader
  int32_t group = 0;  // TP group index

  template <class Archive>
  void serialize(Archive& ar, unsigned /*version*/) {
    ar & sample_key & ok & error & prediction & first_output & cost & rank & group;
  }
};

struct WorkRequest {
  int32_t group = 0;
  int32_t capacity = 0;               // items the group would take now (0: only delivering outcomes)
  int64_t free_kv_tokens = 0;         // KV-cache room left, in tokens of one sequence's full cache
  int32_t running = 0;                // requests the group's engine holds
  std::vector<WorkOutcome> outcomes;  // finished since the previous request
  std::string fatal_error;            // non-empty: the group cannot work (engine failed to load) and retires
  std::string device;                 // the engine's device description, sent with the first request
  bool retiring = false;              // told stop, holds nothing: leaves after this request

  template <class Archive>
  void serialize(Archive& ar, unsigned /*version*/) {
    ar & group & capacity & free_kv_tokens & running & outcomes & fatal_error & device & retiring;
  }
};

struct WorkAssignment {
  bool stop = false;    // the queue is empty: no more items will come
  bool retire = false;  // answer to a retiring (or fatal) request: the group leaves its loop
  std::vector<Prompt> prompts;  // every prompt the items point to, each once
  std::vector<WorkItem> items;

  template <class Archive>
  void serialize(Archive& ar, unsigned /*version*/) {
    ar & stop & retire & prompts & items;
  }
};

// KV-cache tokens an item may occupy: its prompt and output, and its follow-up's (run beside it); a chained
// generation runs after the first, so the item needs the larger of the two (the chained input holds the first
// output, at most max_new_tokens of it).
inline int64_t item_tokens(const Prompt& prompt, const WorkItem& item) {
  int64_t tokens = static_cast<int64_t>(prompt.input_ids.size()) + item.generation.max_new_tokens;
  if (!prompt.followup_ids.empty()) {
    tokens += static_cast<int64_t>(prompt.followup_ids.size()) + item.generation.max_new_tokens;
  }
  if (prompt.has_chain()) {
    const int64_t chained = prompt.chain_tokens + item.generation.max_new_tokens + prompt.chain_max_new_tokens;
    if (chained > tokens) tokens = chained;
  }
  return tokens;
}

}  // namespace loom::protocol
