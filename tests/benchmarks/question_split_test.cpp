// The input of a query_aware: false row (benchmarks/question_split.h): the context's ids are the chat-templated
// context alone (kvpress's pipeline: the user turn cut at a separator), then question + end of turn + generation
// prompt + answer prefix; without a chat template the context gets the BOS. Truncation cuts the context's middle,
// never the question. RULER marks where each task's question starts (Sample::question_begin).
#include "fake_tokenizer.h"
#include "test_support.h"

#include "benchmarks/question_split.h"
#include "text/chat_template.h"
#include "text/tokenizer.h"

#include "common/error.h"

#include <gtest/gtest.h>

namespace loom::benchmarks {
namespace {

struct QuestionSplitFixture : ::testing::Test {
  static void SetUpTestSuite() {
    const auto dir = testing::source_dir() / "tests" / "fixtures" / "models" / "llama3_tiny";
    tokenizer = text::load_tokenizer(dir).release();
    chat = new text::ChatTemplate(text::load_chat_template(dir));
  }
  static void TearDownTestSuite() {
    delete tokenizer;
    delete chat;
  }
  static Sample sample() {
    Sample s;
    s.benchmark = "RULER";
    s.task = "niah_single_1";
    s.prompt = "Remember the number. The number is 42.\nWhat is the number?";
    s.question_begin = static_cast<int64_t>(s.prompt.find("\nWhat"));
    s.answer_prefix = " The number is";
    return s;
  }
  static text::Tokenizer* tokenizer;
  static text::ChatTemplate* chat;
};
text::Tokenizer* QuestionSplitFixture::tokenizer = nullptr;
text::ChatTemplate* QuestionSplitFixture::chat = nullptr;

TEST_F(QuestionSplitFixture, ChatTemplatedContextThenQuestionAndSuffix) {
  const Sample s = sample();
  const SplitInput split = build_split_input(s, PromptContext{tokenizer, chat, 0});
  const auto context_end = split.input_ids.end() - split.question_tokens;
  const std::vector<int32_t> context(split.input_ids.begin(), context_end);
  const std::vector<int32_t> question(context_end, split.input_ids.end());
  EXPECT_EQ(tokenizer->decode(context, false),
            "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nRemember the number. The number is 42.");
  EXPECT_EQ(tokenizer->decode(question, false),
            "\nWhat is the number?<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n The number is");
  EXPECT_EQ(question, tokenizer->encode(
                          "\nWhat is the number?<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n The number "
                          "is", false));
}

TEST_F(QuestionSplitFixture, RawContextGetsTheBos) {
  Sample s = sample();
  s.use_chat_template = false;
  const SplitInput split = build_split_input(s, PromptContext{tokenizer, chat, 0});
  EXPECT_EQ(tokenizer->decode(split.input_ids, false),
            "<|begin_of_text|>Remember the number. The number is 42.\nWhat is the number? The number is");
  EXPECT_EQ(split.question_tokens,
            static_cast<int64_t>(tokenizer->encode("\nWhat is the number? The number is", false).size()));
}

TEST_F(QuestionSplitFixture, TruncationCutsTheContextsMiddleOnly) {
  Sample s = sample();
  std::string filler;
  for (int i = 0; i < 200; ++i) filler += "w" + std::to_string(i) + " ";
  s.prompt = "HEAD " + filler + "TAIL\nWhat is the number?";
  s.question_begin = static_cast<int64_t>(s.prompt.find("\nWhat"));
  const SplitInput whole = build_split_input(s, PromptContext{tokenizer, chat, 0});
  const SplitInput cut = build_split_input(s, PromptContext{tokenizer, chat, 120});
  EXPECT_EQ(static_cast<int64_t>(cut.input_ids.size()), 120);
  EXPECT_EQ(cut.question_tokens, whole.question_tokens);
  const std::string text = tokenizer->decode(cut.input_ids, false);
  EXPECT_NE(text.find("HEAD"), std::string::npos) << text;
  EXPECT_NE(text.find("TAIL\nWhat is the number?"), std::string::npos) << text;
  EXPECT_EQ(text.find("w100 "), std::string::npos) << text;
  EXPECT_THROW(build_split_input(s, PromptContext{tokenizer, chat, whole.question_tokens + 1}), SampleError);
}

TEST(QuestionSplit, RulerMarksEveryTasksQuestion) {
  BenchmarkRegistry registry{testing::configs_dir()};
  auto spec = testing::make_spec("RULER", {}, {1024}, 1, testing::fixtures_dir() / "ruler");
  spec.options["essay_json"] = (testing::fixtures_dir() / "ruler" / "PaulGrahamEssays.json").string();
  testing::FakeTokenizer fake;
  const auto samples = registry.get("RULER").expand(spec, PromptContext{&fake, nullptr, 0});
  ASSERT_EQ(samples.size(), 13u);
  for (const Sample& s : samples) {
    SCOPED_TRACE(s.task);
    ASSERT_TRUE(has_question(s));
    const std::string question = s.prompt.substr(static_cast<size_t>(s.question_begin));
    EXPECT_LT(question.size(), 400u) << question;
    if (s.task.rfind("niah", 0) == 0) EXPECT_EQ(question.rfind("\nWhat ", 0), 0u) << question;
  }
  Sample plain;
  EXPECT_FALSE(has_question(plain));
}

// The jsonl family: the question is what the task template puts after its one {context}.
TEST(QuestionSplit, JsonlTemplatesSplitAfterTheContext) {
  BenchmarkRegistry registry{testing::configs_dir()};
  testing::FakeTokenizer fake;
  const auto spec = testing::make_spec("LongBench", {"hotpotqa"}, {}, -1, testing::fixtures_dir() / "longbench");
  const auto samples = registry.get("LongBench").expand(spec, PromptContext{&fake, nullptr, 0});
  ASSERT_FALSE(samples.empty());
  const Sample& s = samples[0];
  ASSERT_TRUE(has_question(s));
  EXPECT_EQ(s.prompt.substr(0, static_cast<size_t>(s.question_begin)),
            "Answer the question based on the given passages. Only give me the answer and do not output any other "
            "words.\n\nThe following are given passages.\nPassage 1:\nParis hosted the 1900 Summer Olympics.");
  EXPECT_EQ(s.prompt.substr(static_cast<size_t>(s.question_begin)),
            "\n\nAnswer the question based on the given passages. Only give me the answer and do not output any "
            "other words.\n\nQuestion: Which city hosted the 1900 games?\nAnswer:");
}

}  // namespace
}  // namespace loom::benchmarks
