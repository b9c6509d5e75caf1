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
  // A question that starts after the context (query_aware: false splits there) moves with the context's length.
  const auto context_end = static_cast<int64_t>(source.prompt_before.size() + source.context.size());
  if (sample.question_begin >= context_end)
    sample.question_begin += static_cast<int64_t>(retrieved.context.size()) - static_cast<int64_t>(source.context.size());
  sample.prompt = source.prompt_before + retrieved.context + source.prompt_after;
  sample.metadata["rag"] = {{"method", config.method},
                            {"chunk_ids", retrieved.chunk_ids},
                            {"total_chunks", retrieved.total_chunks}};
  source = benchmarks::RetrievalSource{true, {}, {}, {}, {}};  // the context is no longer needed
  return {};
}

}  // namespace loom::scheduler
