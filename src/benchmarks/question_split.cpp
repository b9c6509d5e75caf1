#include "benchmarks/question_split.h"

#include "common/error.h"
#include "text/chat_template.h"
#include "text/tokenizer.h"

#include <fmt/format.h>

namespace loom::benchmarks {

namespace {

// A separator no prompt contains (kvpress uses '#' repeated past the context's length). Printable: templates trim
// the user turn, and Python's (and so the templates') whitespace includes the ASCII control separators.
constexpr const char* kSeparator = "<<loom:question-split:7f3a9c>>";

}  // namespace

bool has_question(const Sample& sample) {
  return sample.question_begin >= 0 && sample.question_begin <= static_cast<int64_t>(sample.prompt.size());
}

SplitInput build_split_input(const Sample& sample, const PromptContext& ctx) {
  const std::string key = sample.benchmark + "/" + sample.task + "/" + sample.id;
  LOOM_CHECK(ctx.tokenizer != nullptr, "PromptContext has no tokenizer");
  LOOM_CHECK(has_question(sample), "sample {} has no separable question", key);
  const auto cut = static_cast<size_t>(sample.question_begin);
  const std::string context = sample.prompt.substr(0, cut);
  const std::string question = sample.prompt.substr(cut);
  std::string context_text, question_text;
  bool context_special = false;
  if (sample.use_chat_template && ctx.chat_template != nullptr && ctx.chat_template->name() != "raw") {
    std::vector<text::ChatMessage> messages;
    if (!sample.system_prompt.empty()) messages.push_back({"system", sample.system_prompt});
    messages.push_back({"user", context + kSeparator});
    const std::string rendered = ctx.chat_template->render(messages, /*add_generation_prompt=*/true);
    const size_t at = rendered.find(kSeparator);
    LOOM_CHECK(at != std::string::npos, "the chat template {} dropped the question separator",
               ctx.chat_template->name());
    context_text = rendered.substr(0, at);
    question_text = question + rendered.substr(at + std::string(kSeparator).size()) + sample.answer_prefix;
  } else {
    context_text = sample.system_prompt.empty() ? context : sample.system_prompt + "\n\n" + context;
    context_special = true;
    question_text = question + sample.answer_prefix;
  }
  std::vector<int32_t> context_ids = ctx.tokenizer->encode(context_text, context_special);
  const std::vector<int32_t> question_ids = ctx.tokenizer->encode(question_text, false);
  const auto q = static_cast<int64_t>(question_ids.size());
  if (ctx.max_input_tokens > 0 && static_cast<int64_t>(context_ids.size()) + q > ctx.max_input_tokens) {
    const int64_t budget = ctx.max_input_tokens - q;
    if (budget < 2) {
      throw SampleError(key, fmt::format("the question ({} tokens) leaves no room for the context", q));
    }
    const int64_t head = budget / 2;
    std::vector<int32_t> kept(context_ids.begin(), context_ids.begin() + head);
    kept.insert(kept.end(), context_ids.end() - (budget - head), context_ids.end());
    context_ids = std::move(kept);
  }
  SplitInput out;
  out.input_ids = std::move(context_ids);
  out.input_ids.insert(out.input_ids.end(), question_ids.begin(), question_ids.end());
  out.question_tokens = q;
  return out;
}

}  // namespace loom::benchmarks
