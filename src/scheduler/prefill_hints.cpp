#include "scheduler/prefill_hints.h"

#include "methods/method_catalogue.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>

namespace loom::scheduler {

std::vector<std::string> chunked_sparse_prefill_hints(const PreparedWork& work) {
  struct Chunked {
    int64_t rows = 0;
    int64_t longest = 0;
    int64_t chunk = 0;
    std::string reason;
  };
  std::map<std::string, Chunked> by_label;
  for (const protocol::WorkItem& item : work.items) {
    const methods::MethodDef* method = methods::find_method(item.method.name);
    if (method == nullptr || method->one_chunk_prefill.empty()) continue;
    const int64_t tokens = static_cast<int64_t>(work.prompts.at(item.prompt_id).input_ids.size());
    const int64_t chunk = item.generation.prefill_chunk_size;
    if (chunk <= 0 || tokens <= chunk) continue;
    Chunked& c = by_label[item.method.label];
    ++c.rows;
    c.longest = std::max(c.longest, tokens);
    c.chunk = std::max(c.chunk, chunk);
    c.reason = method->one_chunk_prefill;
  }
  std::vector<std::string> hints;
  for (const auto& [label, c] : by_label) {
    hints.push_back(fmt::format(
        "method {}: {} rows have prompts longer than generation.prefill_chunk_size ({} tokens; the longest {}): {}; "
        "prefill_chunk_size: {} prefills each in one chunk (docs/acceleration.md)",
        label, c.rows, c.chunk, c.longest, c.reason, c.longest));
  }
  return hints;
}

}  // namespace loom::scheduler
