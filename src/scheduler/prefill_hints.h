// Hints about how a prepared job will prefill, logged once by prepare_work: FlexPrefill searches its sparse pattern
// per prefill chunk, and with several chunks per prompt it measured slower than dense prefill (H100, 131,008
// tokens: 1.35x dense with 32,768-token chunks, 0.84x in one chunk; docs/acceleration.md). A job that runs it on
// prompts longer than its generation.prefill_chunk_size gets one line saying so and which chunk size gives one chunk.
#pragma once

#include "scheduler/work_builder.h"

#include <string>
#include <vector>

namespace loom::scheduler {

// One line per method label whose rows would prefill FlexPrefill in several chunks (empty when none).
std::vector<std::string> chunked_sparse_prefill_hints(const PreparedWork& work);

}  // namespace loom::scheduler
