// Torch-free validation of a job's tensor_parallel against the world size and the model, for every rank before any
// work is dispatched (and for `loom_mpi validate`): the world size must be a multiple of tensor_parallel, and the
// model's num_attention_heads and num_key_value_heads (from its model card) must divide by it. Errors are
// loom::InputError naming the job file and the key, with the values that would work.
#pragma once

#include "model_card/model_card.h"

#include <string>
#include <vector>

namespace loom::parallel {

struct HeadCounts {
  long long heads = 0;
  long long kv_heads = 0;
};

// num_attention_heads and num_key_value_heads of the card (read_model_card has checked both).
HeadCounts head_counts(const model::ModelCard& card);

// The tensor_parallel values that divide both head counts (1 first).
std::vector<int> valid_tensor_parallel_sizes(const HeadCounts& counts);

// Throws InputError(job_file, 0, "parallel.tensor_parallel", ...) when world_size % tensor_parallel != 0 or the
// heads do not divide; `config_file` names the model's config.json in the message.
void check_tensor_parallel(int tensor_parallel, int world_size, const HeadCounts& counts, const std::string& job_file,
                           const std::string& config_file);

}  // namespace loom::parallel
