#include "benchmarks/prompt_builder.h"

#include "common/error.h"

#include <algorithm>
#include "benchmarks/text_util.h"

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
  const auto begin = md["document_begin"].get<size_t>();
  const auto end = md["document_end"].get<size_t>();
  const bool from_left = md.value("truncate_side", std::string("right")) == "left";
  const std::string before = sample.prompt.substr(0, begin);
  const std::string after = sample.prompt.substr(end);
  const std::string document = sample.prompt.substr(begin, end - begin);
  const text::Tokenizer& tok = *ctx.tokenizer;
  // The official loop bounds the document's own tokens by max_length; here the document gets what the rest of the
  // templated input leaves of max_input_tokens, so the whole input fits.
  const int64_t overhead = static_cast<int64_t>(ids.size()) - static_cast<int64_t>(tok.encode(document, false).size());
  const int64_t budget = ctx.max_input_tokens - overhead;
  const std::string key = sample.benchmark + "/" + sample.task + "/" + sample.id;
  if (budget <= 0) throw SampleError(key, "the instruction alone is longer than max_input_tokens");
  const std::vector<std::string> words = split_on(document, " ");
  // Step k keeps the first (or, for code, the last) budget - 250k words, as LEval's `max_length - cnt`.
  auto cut = [&](int64_t k) {
    const auto keep = static_cast<size_t>(std::clamp<int64_t>(budget - 250 * k, 0, static_cast<int64_t>(words.size())));
    return from_left ? join(std::vector<std::string>(words.end() - static_cast<std::ptrdiff_t>(keep), words.end()), " ")
                     : join(std::vector<std::string>(words.begin(), words.begin() + static_cast<std::ptrdiff_t>(keep)), " ");
  };
  auto fits = [&](int64_t k) { return static_cast<int64_t>(tok.encode(cut(k), false).size()) <= budget; };
  // Smallest step whose document fits (the token count only falls as k grows).
  int64_t lo = 0, hi = budget / 250 + 1;
  while (lo < hi) {
    const int64_t mid = lo + (hi - lo) / 2;
    if (fits(mid)) hi = mid;
    else lo = mid + 1;
  }
  for (int64_t k = lo; k <= budget / 250 + 1; ++k) {
    ids = encode_input(sample, before + cut(k) + after, ctx);
    if (static_cast<int64_t>(ids.size()) <= ctx.max_input_tokens) return ids;
  }
  throw SampleError(key, "the instruction alone is longer than max_input_tokens");
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
