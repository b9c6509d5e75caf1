// The input of a query_aware: false row (kvpress's question-agnostic protocol, docs/acceleration.md): the sample's
// prompt split at Sample::question_begin into its context and its question, rendered as kvpress's pipeline does.
// With a chat template, the context is rendered as the user turn followed by a separator, and the text is cut there:
// the context part (template header + context) is tokenized alone, and the question + the template's suffix
// (end of turn, generation prompt) + the answer prefix is tokenized after it. Without one, the context is tokenized
// with the tokenizer's special tokens (as the raw query-aware input) and question + answer prefix without. So the
// context's ids are a prefix of the ids, whatever the tokenizer would merge across the cut.
// Truncation: when the whole exceeds ctx.max_input_tokens, the context's ids lose their middle (first half and last
// half kept); the question is never cut. Throws SampleError when the question alone does not fit.
#pragma once

#include "benchmarks/registry.h"

#include <cstdint>
#include <vector>

namespace loom::benchmarks {

struct SplitInput {
  std::vector<int32_t> input_ids;  // context ids, then question ids
  int64_t question_tokens = 0;     // the question's share of input_ids (its last tokens)
};

// Whether the sample's prompt has a separable question (Sample::question_begin inside the prompt).
bool has_question(const Sample& sample);

// loom::Error when the sample has no separable question (the work builder refuses such a job first).
SplitInput build_split_input(const Sample& sample, const PromptContext& ctx);

}  // namespace loom::benchmarks
