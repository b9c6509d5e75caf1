// Sample → model input ids: the sample's prompt goes through the model's chat template (system + user turn, then the
// answer prefix after the generation prompt) or is used raw (tokenized with the tokenizer's special tokens, as
// LongBench's pred.py does for its no-chat tasks), and the benchmark's truncation rule keeps the result within
// ctx.max_input_tokens (0 = no limit).
#pragma once

#include "benchmarks/benchmark_config.h"
#include "benchmarks/registry.h"

#include <cstdint>
#include <string>
#include <vector>

namespace loom::benchmarks {

// The text fed to the tokenizer for `prompt` (chat-rendered or raw, plus answer prefix) and whether the tokenizer
// must add its special tokens (raw) or not (the chat template already wrote them).
struct RenderedInput {
  std::string text;
  bool add_special_tokens = false;
};
RenderedInput render_input(const Sample& sample, const std::string& prompt, const PromptContext& ctx);

// Token ids of the sample with `prompt` instead of sample.prompt, no truncation.
std::vector<int32_t> encode_input(const Sample& sample, const std::string& prompt, const PromptContext& ctx);

// Middle truncation: when the input is longer than max_input_tokens, keep the first half and the last half of the
// prompt's tokens (decoded back to text, as LongBench does), with the halves sized so the whole templated input fits.
std::vector<int32_t> build_ids_middle_truncation(const Sample& sample, const PromptContext& ctx);

// LEval's rule: the document (sample.metadata "document_begin"/"document_end", byte offsets into the prompt) is cut
// to its first (budget − 250·k) space-separated words for k = 0, 1, ... (its last words when metadata
// "truncate_side" is "left", LEval's code tasks) until it fits; budget = max_input_tokens minus the rest of the input.
std::vector<int32_t> build_ids_leval_truncation(const Sample& sample, const PromptContext& ctx);

std::vector<int32_t> build_ids(const Sample& sample, const PromptContext& ctx, TruncationRule rule);

}  // namespace loom::benchmarks
