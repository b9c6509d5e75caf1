// chunked_sparse_prefill_hints: a FlexPrefill row whose prompt is longer than its prefill chunk gets one hint per
// method label with the row count and the chunk size that would prefill the longest in one chunk; dense methods,
// other sparse methods and prompts that fit one chunk get none.
#include "scheduler/prefill_hints.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace {

using loom::scheduler::chunked_sparse_prefill_hints;
using loom::scheduler::PreparedWork;

void add_row(PreparedWork& work, int64_t tokens, const std::string& method, const std::string& label, int32_t chunk) {
  loom::protocol::Prompt prompt;
  prompt.input_ids.assign(static_cast<size_t>(tokens), 7);
  loom::protocol::WorkItem item;
  item.sample_key = "B/t/" + std::to_string(tokens) + "/0/" + label;
  item.prompt_id = work.prompts.add(std::move(prompt));
  item.method.name = method;
  item.method.label = label;
  item.generation.prefill_chunk_size = chunk;
  work.items.push_back(item);
}

TEST(PrefillHints, FlexPrefillInSeveralChunksGetsOneHintPerLabel) {
  PreparedWork work;
  add_row(work, 40000, "flexprefill", "flex", 16384);
  add_row(work, 70000, "flexprefill", "flex", 16384);
  add_row(work, 8000, "flexprefill", "flex", 16384);        // one chunk: no hint
  add_row(work, 70000, "full", "full", 16384);              // dense
  add_row(work, 70000, "xattention", "xattention", 16384);  // measured faster than dense in chunks
  add_row(work, 90000, "flexprefill", "flex_one", 131072);  // one chunk
  const std::vector<std::string> hints = chunked_sparse_prefill_hints(work);
  ASSERT_EQ(hints.size(), 1u);
  EXPECT_NE(hints[0].find("method flex:"), std::string::npos) << hints[0];
  EXPECT_NE(hints[0].find("2 rows"), std::string::npos) << hints[0];
  EXPECT_NE(hints[0].find("(16384 tokens; the longest 70000)"), std::string::npos) << hints[0];
  EXPECT_NE(hints[0].find("prefill_chunk_size: 70000"), std::string::npos) << hints[0];
}

TEST(PrefillHints, AJobWithoutChunkedSparsePrefillGetsNone) {
  PreparedWork work;
  add_row(work, 70000, "full", "full", 16384);
  add_row(work, 70000, "snapkv", "snapkv@0.5", 16384);
  EXPECT_TRUE(chunked_sparse_prefill_hints(work).empty());
}

}  // namespace
