#include "benchmarks/retrieval_source.h"

#include "benchmarks/sample.h"

namespace loom::benchmarks {

bool split_at_context(const std::string& rendered, const std::string& marker, RetrievalSource& source) {
  const size_t at = rendered.find(marker);
  if (at == std::string::npos) {
    source.prompt_before = rendered;
    source.prompt_after.clear();
    source.context.clear();
    return true;
  }
  if (rendered.find(marker, at + marker.size()) != std::string::npos) return false;
  source.prompt_before = rendered.substr(0, at);
  source.prompt_after = rendered.substr(at + marker.size());
  return true;
}

void replace_context(Sample& sample, const std::string& context) {
  const RetrievalSource& source = sample.retrieval;
  const size_t old_size = sample.prompt.size() - source.prompt_before.size() - source.prompt_after.size();
  if (sample.question_begin >= static_cast<int64_t>(source.prompt_before.size() + old_size))
    sample.question_begin += static_cast<int64_t>(context.size()) - static_cast<int64_t>(old_size);
  sample.prompt = source.prompt_before + context + source.prompt_after;
}

}  // namespace loom::benchmarks
