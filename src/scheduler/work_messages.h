// The scheduler <-> worker protocol (docs/architecture.md, "Messages"). Plain structs serialized with
// Boost.Serialization; each travels under one MessageTag (src/common/mpi/message_tag.h):
//   leader -> rank 0   kWorkRequest     WorkRequest   (outcomes of the previous assignment + "give me more")
//   rank 0 -> leader   kWorkAssignment  WorkAssignment (up to `capacity` items, or stop)
//   leader -> group    broadcast         WorkAssignment (the same batch, so every TP rank runs it)
// Rank 0 keeps each item's descriptive fields (benchmark, task, references, ...) and joins them with the
// WorkOutcome into a results::ResultRow, so only ids and numbers cross the network.
#pragma once

#include "common/generation_settings.h"

#include <cstdint>
#include <string>
#include <vector>

namespace loom::scheduler {

struct WorkItem {
  std::string sample_key;
  std::vector<int32_t> input_ids;
  GenerationSettings generation;
  MethodSpec method;
  double predicted_seconds = 0;
  // Optional second generation (benchmarks::Sample::followup_prompt), run in the same batch; its output is joined to
  // the prediction as followup_prefix + output + followup_suffix.
  std::vector<int32_t> followup_ids;
  std::string followup_prefix;
  std::string followup_suffix;

  template <class Archive>
  void serialize(Archive& ar, unsigned /*version*/) {
    ar & sample_key & input_ids & generation & method & predicted_seconds & followup_ids & followup_prefix &
        followup_suffix;
  }
};

struct WorkOutcome {
  std::string sample_key;
  bool ok = true;
  std::string error;
  std::string prediction;
  int64_t input_tokens = 0;
  int64_t output_tokens = 0;
  double prefill_seconds = 0;
  double decode_seconds = 0;
  int64_t kv_bytes = 0;
  int64_t peak_memory_bytes = 0;
  double prefill_block_density = 1.0;
  int32_t rank = 0;   // world rank of the group leader
  int32_t group = 0;  // TP group index

  template <class Archive>
  void serialize(Archive& ar, unsigned /*version*/) {
    ar & sample_key & ok & error & prediction & input_tokens & output_tokens & prefill_seconds & decode_seconds &
        kv_bytes & peak_memory_bytes & prefill_block_density & rank & group;
  }
};

struct WorkRequest {
  int32_t group = 0;
  int32_t capacity = 1;               // most items the group wants in one assignment (model.max_batch_size)
  std::vector<WorkOutcome> outcomes;  // results of the previous assignment (empty on the first request)
  std::string fatal_error;            // non-empty: the group cannot work (engine failed to load) and retires
  std::string device;                 // the engine's device description, sent with the first request

  template <class Archive>
  void serialize(Archive& ar, unsigned /*version*/) {
    ar & group & capacity & outcomes & fatal_error & device;
  }
};

struct WorkAssignment {
  bool stop = false;  // no more work: the group leaves its loop
  std::vector<WorkItem> items;

  template <class Archive>
  void serialize(Archive& ar, unsigned /*version*/) {
    ar & stop & items;
  }
};

}  // namespace loom::scheduler
