#include "scheduler/retrieval_step.h"

#include "rag/retriever.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace loom::scheduler {

std::string apply_retrieval(rag::Retriever& retriever, benchmarks::Sample& sample) {
  const rag::RagConfig& config = retriever.config();
  benchmarks::RetrievalSource& source = sample.retrieval;
  rag::Retrieved retrieved;
  try {
    retrieved = retriever.retrieve(source.context, source.question);
  } catch (const std::exception& e) {
    return fmt::format("retrieval ({}) failed: {}", config.method, e.what());
  }
  benchmarks::replace_context(sample, retrieved.context);
  sample.metadata["rag"] = {{"method", config.method},
                            {"chunk_ids", retrieved.chunk_ids},
                            {"total_chunks", retrieved.total_chunks}};
  source = benchmarks::RetrievalSource{true, {}, {}, {}, {}};  // the context is no longer needed
  return {};
}

}  // namespace loom::scheduler
