// Prompt building: the model's chat template (llama3, from the llama3_tiny fixture model) with RULER's answer
// prefix, raw prompts with the tokenizer's BOS, LongBench-style middle truncation and LEval's word truncation.
#include "test_support.h"

#include "benchmarks/prompt_builder.h"
#include "benchmarks/text_util.h"
#include "text/chat_template.h"
#include "text/tokenizer.h"

#include <gtest/gtest.h>

namespace loom::benchmarks {
namespace {

struct PromptFixture : ::testing::Test {
  static void SetUpTestSuite() {
    const auto dir = testing::source_dir() / "tests" / "fixtures" / "models" / "llama3_tiny";
    tokenizer = text::load_tokenizer(dir).release();
    chat = new text::ChatTemplate(text::load_chat_template(dir));
  }
  static void TearDownTestSuite() {
    delete tokenizer;
    delete chat;
  }
  static text::Tokenizer* tokenizer;
  static text::ChatTemplate* chat;
  static std::string numbered_words(int n) {
    std::string s;
    for (int i = 0; i < n; ++i) s += "w" + std::to_string(i) + " ";
    return s;
  }
};
text::Tokenizer* PromptFixture::tokenizer = nullptr;
text::ChatTemplate* PromptFixture::chat = nullptr;

TEST_F(PromptFixture, ChatTemplateThenAnswerPrefix) {
  Sample s;
  s.prompt = "What is the special magic number?";
  s.answer_prefix = " The special magic number is";
  const PromptContext ctx{tokenizer, chat, 0};
  const std::string text = tokenizer->decode(build_ids(s, ctx, TruncationRule::kMiddle), false);
  EXPECT_EQ(text.rfind("<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\n", 0), 0u) << text;
  EXPECT_NE(text.find("What is the special magic number?<|eot_id|>"), std::string::npos) << text;
  const std::string tail = "<|start_header_id|>assistant<|end_header_id|>\n\n The special magic number is";
  EXPECT_EQ(text.substr(text.size() - tail.size()), tail);
  EXPECT_EQ(text.find("<|begin_of_text|>", 1), std::string::npos);  // one BOS only
}

TEST_F(PromptFixture, RawPromptGetsTheTokenizersBos) {
  Sample s;
  s.prompt = "Question: Who?\nType:";
  s.use_chat_template = false;
  const auto ids = build_ids(s, PromptContext{tokenizer, chat, 0}, TruncationRule::kMiddle);
  EXPECT_EQ(ids, tokenizer->encode(s.prompt, true));
  EXPECT_EQ(tokenizer->decode(ids, false), "<|begin_of_text|>Question: Who?\nType:");
}

TEST_F(PromptFixture, MiddleTruncationKeepsBothEnds) {
  Sample s;
  s.use_chat_template = false;
  s.prompt = "BEGIN " + numbered_words(2000) + "END";
  const PromptContext ctx{tokenizer, chat, 300};
  const auto ids = build_ids(s, ctx, TruncationRule::kMiddle);
  EXPECT_LE(ids.size(), 300u);
  EXPECT_GE(ids.size(), 295u);
  const std::string text = tokenizer->decode(ids, true);
  EXPECT_EQ(text.rfind("BEGIN w0 w1 ", 0), 0u);
  EXPECT_EQ(text.substr(text.size() - 10), " w1999 END");
  EXPECT_EQ(text.find("w1000 "), std::string::npos);
  // With the chat template the whole templated input fits too.
  s.use_chat_template = true;
  EXPECT_LE(build_ids(s, ctx, TruncationRule::kMiddle).size(), 300u);
  // Short prompts are untouched.
  s.prompt = "short";
  EXPECT_EQ(build_ids(s, ctx, TruncationRule::kMiddle), encode_input(s, s.prompt, ctx));
}

TEST_F(PromptFixture, LEvalTruncationCutsTheDocumentByWords) {
  const std::string before = "Document is as follows. ";
  const std::string document = numbered_words(3000);
  const std::string after = " Instruction: summarise. \nAnswer this question with 5 words.";
  Sample s;
  s.prompt = before + document + after;
  s.metadata["document_begin"] = before.size();
  s.metadata["document_end"] = before.size() + document.size();
  const PromptContext ctx{tokenizer, chat, 1000};
  const std::string text = tokenizer->decode(build_ids(s, ctx, TruncationRule::kLEvalWords), true);
  EXPECT_NE(text.find("Document is as follows. w0 w1 w2"), std::string::npos);
  EXPECT_NE(text.find(" Instruction: summarise."), std::string::npos);
  EXPECT_EQ(text.find("w2999"), std::string::npos);
  EXPECT_LE(build_ids(s, ctx, TruncationRule::kLEvalWords).size(), 1000u);
  // The kept word count is budget − 250·k: a multiple of 250 below the budget (whole words from the left).
  const size_t kept = split_whitespace(text.substr(text.find("w0"), text.find(" Instruction") - text.find("w0"))).size();
  const int64_t overhead = static_cast<int64_t>(encode_input(s, s.prompt, ctx).size()) -
                           static_cast<int64_t>(tokenizer->encode(document, false).size());
  EXPECT_EQ((1000 - overhead - static_cast<int64_t>(kept)) % 250, 0) << kept;
  // Code tasks keep the end of the document.
  s.metadata["truncate_side"] = "left";
  const std::string code_text = tokenizer->decode(build_ids(s, ctx, TruncationRule::kLEvalWords), true);
  EXPECT_NE(code_text.find("w2999"), std::string::npos);
  EXPECT_EQ(code_text.find(" w0 "), std::string::npos);
}

}  // namespace
}  // namespace loom::benchmarks
