// The job's `rag:` applied to one sample on rank 0 before tokenization (docs/rag.md): its context is replaced by the
// retrieved chunks (prompt = prompt_before + chunks + prompt_after) and its metadata gains
// "rag": {"method", "chunk_ids", "total_chunks"}, which the results row keeps (metadata_json).
#pragma once

#include "benchmarks/sample.h"
#include "rag/retriever.h"

#include <string>

namespace loom::scheduler {

// Empty on success, else why retrieval failed (the sample's rows are then stored as failed with that reason).
std::string apply_retrieval(rag::Retriever& retriever, benchmarks::Sample& sample);

}  // namespace loom::scheduler
