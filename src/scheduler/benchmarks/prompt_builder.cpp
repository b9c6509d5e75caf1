#include "scheduler/benchmarks/prompt_builder.h"

#include "common/error.h"

#include <algorithm>
#include "scheduler/benchmarks/text_util.h"

namespace loom::benchmarks {

RenderedInput render_input(const Sample& sample, const std::string& prompt, const PromptContext& ctx) {
  RenderedInput out;
  if (sample.use_chat_template && ctx.chat_template != nullptr && ctx.chat_template->name() != "raw") {
    std::vector<text::ChatMessage> messages;
    if (!sample.system_prompt.empty()) messages.push_back({"system", sample.system_prompt});
    messages.push_back({"user", prompt});
    out.text = ctx.chat_template->render(messages, /*add_generation_prompt=*/true) + sample.answer_prefix;
    out.add_special_tokens = false;
  } else {
    out.text = sample.system_prompt.empty() ? prompt : sample.system_prompt + "\n\n" + prompt;
    out.text += sample.answer_prefix;
    out.add_special_tokens = true;
  }
  return out;
}

std::vector<int32_t> encode_input(const Sample& sample, const std::string& prompt, const PromptContext& ctx) {
  LOOM_CHECK(ctx.tokenizer != nullptr, "PromptContext has no tokenizer");
  RenderedInput r = render_input(sample, prompt, ctx);
  return ctx.tokenizer->encode(r.text, r.add_special_tokens);
}

std::vector<int32_t> build_ids_middle_truncation(const Sample& sample, const PromptContext& ctx) {
  std::vector<int32_t> ids = encode_input(sample, sample.prompt, ctx);
  if (ctx.max_input_tokens <= 0 || static_cast<int64_t>(ids.size()) <= ctx.max_input_tokens) return ids;
  const text::Tokenizer& tok = *ctx.tokenizer;
  const std::vector<int32_t> prompt_ids = tok.encode(sample.prompt, false);
  const int64_t overhead = static_cast<int64_t>(ids.size()) - static_cast<int64_t>(prompt_ids.size());
  int64_t budget = ctx.max_input_tokens - overhead;
  // Decoding and re-encoding at the cut can merge or split a token or two; shrink the budget until it fits.
  for (int attempt = 0; attempt < 8 && budget > 0; ++attempt) {
    const int64_t head = budget / 2;
    const int64_t tail = budget - head;
    std::vector<int32_t> first(prompt_ids.begin(), prompt_ids.begin() + head);
    std::vector<int32_t> last(prompt_ids.end() - tail, prompt_ids.end());
    const std::string truncated = tok.decode(first, true) + tok.decode(last, true);
    ids = encode_input(sample, truncated, ctx);
    const int64_t excess = static_cast<int64_t>(ids.size()) - ctx.max_input_tokens;
    if (excess <= 0) return ids;
    budget -= excess;
  }
  throw SampleError(sample.benchmark + "/" + sample.task + "/" + sample.id,
                    "the prompt template alone is longer than max_input_tokens");
}

std::vector<int32_t> build_ids_leval_truncation(const Sample& sample, const PromptContext& ctx) {
  std::vector<int32_t> ids = encode_input(sample, sample.prompt, ctx);
  if (ctx.max_input_tokens <= 0 || static_cast<int64_t>(ids.size()) <= ctx.max_input_tokens) return ids;
  const auto& md = sample.metadata;
  if (!md.contains("document_begin") || !md.contains("document_end")) return build_ids_middle_truncation(sample, ctx);
  const size_t begin = md["document_begin"].get<size_t>();
  const size_t end = md["document_end"].get<size_t>();
  const bool from_left = md.value("truncate_side", std::string("right")) == "left";
  const std::string before = sample.prompt.substr(0, begin);
  const std::string after = sample.prompt.substr(end);
  const std::vector<std::string> words = split_on(sample.prompt.substr(begin, end - begin), " ");
  const int64_t total_words = static_cast<int64_t>(words.size());
  auto input_with_cut = [&](int64_t cut_steps) {
    const int64_t keep = std::max<int64_t>(0, total_words - 250 * cut_steps);
    std::vector<std::string> kept = from_left ? std::vector<std::string>(words.end() - keep, words.end())
                                              : std::vector<std::string>(words.begin(), words.begin() + keep);
    return encode_input(sample, before + join(kept, " ") + after, ctx);
  };
  // The official loop removes 250 words per step until the input fits; the smallest fitting step count is found
  // from an estimate and walked to exactly (the token count falls monotonically with the number of words).
  const int64_t excess = static_cast<int64_t>(ids.size()) - ctx.max_input_tokens;
  const double tokens_per_word = static_cast<double>(ids.size()) / std::max<int64_t>(1, total_words);
  const int64_t max_steps = total_words / 250 + 1;
  int64_t steps = std::clamp<int64_t>(static_cast<int64_t>(excess / tokens_per_word / 250.0) + 1, 1, max_steps);
  ids = input_with_cut(steps);
  if (static_cast<int64_t>(ids.size()) <= ctx.max_input_tokens) {
    while (steps > 1) {
      std::vector<int32_t> fewer = input_with_cut(steps - 1);
      if (static_cast<int64_t>(fewer.size()) > ctx.max_input_tokens) break;
      ids = std::move(fewer);
      --steps;
    }
    return ids;
  }
  while (static_cast<int64_t>(ids.size()) > ctx.max_input_tokens && steps < max_steps) ids = input_with_cut(++steps);
  if (static_cast<int64_t>(ids.size()) > ctx.max_input_tokens)
    throw SampleError(sample.benchmark + "/" + sample.task + "/" + sample.id,
                      "the instruction alone is longer than max_input_tokens");
  return ids;
}

std::vector<int32_t> build_ids(const Sample& sample, const PromptContext& ctx, TruncationRule rule) {
  switch (rule) {
    case TruncationRule::kMiddle:
      return build_ids_middle_truncation(sample, ctx);
    case TruncationRule::kLEvalWords:
      return build_ids_leval_truncation(sample, ctx);
    case TruncationRule::kNone:
      return encode_input(sample, sample.prompt, ctx);
  }
  return encode_input(sample, sample.prompt, ctx);
}

}  // namespace loom::benchmarks
