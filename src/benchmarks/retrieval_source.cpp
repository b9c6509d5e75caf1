#include "benchmarks/retrieval_source.h"

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

}  // namespace loom::benchmarks
