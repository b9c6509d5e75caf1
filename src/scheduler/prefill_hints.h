// Hints about how a prepared job will prefill, logged once by prepare_work: a method the catalogue marks as wanting
// one prefill chunk (MethodDef::one_chunk_prefill: FlexPrefill, which searches its sparse pattern per chunk and
// measured slower than dense prefill in several) run on prompts longer than the job's generation.prefill_chunk_size
// gets one line saying so, why, and which chunk size gives one chunk.
#pragma once

#include "scheduler/work_builder.h"

#include <string>
#include <vector>

namespace loom::scheduler {

// One line per method label whose rows would prefill such a method in several chunks (empty when none).
std::vector<std::string> chunked_sparse_prefill_hints(const PreparedWork& work);

}  // namespace loom::scheduler
