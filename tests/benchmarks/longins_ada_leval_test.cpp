// LongIns and Ada-LEval loaders on fixtures in their published layouts (tests/fixtures/benchmarks/{longins,
// ada_leval}): Ins-Bench's data/<mode>/<length>.json (an object of records keyed by id, file order kept) and
// LOOM-Scope's <mode>_<length>.jsonl; Ada-LEval's <task>_<len>.json arrays and the stackselect prompt of
// ada_leval/dataset.py StackSelect.build_prompt with its candidate answers.
#include "fake_tokenizer.h"
#include "test_support.h"

#include "common/error.h"

#include <gtest/gtest.h>

namespace loom::benchmarks {
namespace {

struct NewLoaders : ::testing::Test {
  BenchmarkRegistry registry{testing::configs_dir()};
  testing::FakeTokenizer tokenizer;
  std::vector<Sample> load(const std::string& name, std::vector<std::string> tasks, const std::string& dir,
                           std::vector<int64_t> lengths) {
    return registry.get(name).expand(
        testing::make_spec(name, std::move(tasks), std::move(lengths), -1, testing::fixtures_dir() / dir),
        PromptContext{&tokenizer, nullptr, 0});
  }
};

TEST_F(NewLoaders, LongInsRegistryEntry) {
  const auto& b = registry.get("longins");
  EXPECT_EQ(b.name(), "LongIns");
  EXPECT_EQ(b.capability(), "Reasoning");
  EXPECT_EQ(b.tasks().size(), 2u);
}

TEST_F(NewLoaders, LongInsInsBenchLayoutKeepsFileOrderAndIds) {
  const auto samples = load("LongIns", {"GIST"}, "longins", {256});
  ASSERT_EQ(samples.size(), 2u);
  EXPECT_EQ(samples[0].id, "task1624_disfl_qa_question_yes_no");  // file order, not key order
  EXPECT_EQ(samples[1].id, "task0002_quoref_answer");
  EXPECT_EQ(samples[0].references, std::vector<std::string>{"2"});
  EXPECT_TRUE(samples[1].references.empty());
  EXPECT_EQ(samples[0].metric, "longins_f1");
  EXPECT_EQ(samples[0].generation.max_new_tokens, 1000);
  EXPECT_FALSE(samples[0].generation.do_sample);
  EXPECT_EQ(samples[0].target_length, 256);
  const std::string indent(32, ' ');
  EXPECT_EQ(samples[0].prompt,
            "You are an excellent grading teacher, and you will be given many completed questions. The requirements "
            "for these questions are as follows:\n" + indent +
                "Decide whether the question is answerable. Answer yes or no.\n" + indent +
                "Please identify all the questions that have been answered incorrectly according to the "
                "requirements.\n" + indent +
                "[1. Input: Is the sky blue? Output: yes] [2. Input: Can fish fly? Output: yes] [3. Input: Is "
                "{water} wet? Output: yes]\n" + indent +
                "The above text contains a description of the task for this group, as well as many question-answer "
                "pairs. Each enclosed in brackets. You are requested to identify which answer(s) are incorrect and to "
                "directly provide the question number(s) of the incorrect answer(s) enclosed in brackets. Please "
                "note, I need the numbers of the questions that are incorrect, do not provide the numbers of the "
                "questions with correct answers. Additionally, ensure to output the question numbers in the "
                "specified standard format.Answer:");
}

TEST_F(NewLoaders, LongInsListPromptAndLoomScopeFiles) {
  const auto samples = load("LongIns", {"LIST"}, "longins", {256, 512});
  ASSERT_EQ(samples.size(), 2u);
  const std::string indent(24, ' ');
  EXPECT_EQ(samples[0].prompt,
            "You are an excellent grading teacher, and you will be given many completed questions. Please identify "
            "all the questions that have been answered incorrectly according to the requirements.\n" + indent +
                "[1. Command: add the numbers. Input: 2 3 Output: 6] [2. Command: reverse. Input: ab Output: ba]\n" +
                indent +
                "Each group [] contains the command, input, and output for the task. You are requested to identify "
                "which answer(s) are incorrect and to directly provide the question number(s) of the incorrect "
                "answer(s) enclosed in brackets.Return the selected number in list format. Please note, I need the "
                "numbers of the questions that are incorrect, do not provide the numbers of the questions with "
                "correct answers. Additionally, ensure to output the question numbers in the specified standard "
                "format.Answer:");
  EXPECT_EQ(samples[0].id, "task_b");
  EXPECT_EQ(samples[1].target_length, 512);  // LIST_512.jsonl (LOOM-Scope's layout)
  EXPECT_EQ(samples[1].references, std::vector<std::string>{"1"});
  try {
    load("LongIns", {"GIST"}, "longins", {1024});
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("GIST/1024.json"), std::string::npos) << e.what();
  }
}

TEST_F(NewLoaders, AdaLevalStackSelectPrompt) {
  const auto& b = registry.get("ada_leval");
  EXPECT_EQ(b.name(), "Ada_LEval");
  EXPECT_EQ(b.tasks().size(), 2u);
  const auto samples = load("Ada_LEval", {"stackselect"}, "ada_leval", {1024});
  ASSERT_EQ(samples.size(), 1u);
  const Sample& s = samples[0];
  EXPECT_EQ(s.references, std::vector<std::string>{"A2"});
  EXPECT_EQ(s.metadata["num_choice"], 3);
  EXPECT_EQ(s.metric, "ada_leval_stackselect");
  EXPECT_EQ(s.generation.max_new_tokens, 1024);
  EXPECT_EQ(s.prompt.rfind("\nYou are an AI assistant. Your job is to find out the most helpful answer", 0), 0u);
  const std::string tail =
      "Answer: The designation of the most helpful answer.(e.g. A4 means answer 4 is the most helpful answer) \n\n\n"
      "The question is given below.\nHow do I reverse a list in Python?\n\nPossible answers are given below.\n"
      "A1:\n\nUse a loop.\n\nA2:\n\nUse `lst[::-1]` or `lst.reverse()`.\n\nA3:\n\nYou cannot.\n\n\n"
      "Now the answers are over, please decide which answer is the most helpful one to the question. \n"
      "You must give me only the designation of the MOST helpful answer.\n";
  ASSERT_GE(s.prompt.size(), tail.size());
  EXPECT_EQ(s.prompt.substr(s.prompt.size() - tail.size()), tail);
}

TEST_F(NewLoaders, AdaLevalTextSortPromptIsTheRecords) {
  const auto samples = load("Ada_LEval", {"textsort"}, "ada_leval", {1024, 2048});
  ASSERT_EQ(samples.size(), 2u);
  EXPECT_EQ(samples[0].prompt.rfind("You are an AI assistant. Order the 4 paragraphs.", 0), 0u);
  EXPECT_EQ(samples[0].references, (std::vector<std::string>{"3", "1", "4", "2"}));
  EXPECT_EQ(samples[0].metric, "ada_leval_textsort");
  EXPECT_EQ(samples[1].references, std::vector<std::string>{"[1, 2, 3, 4]"});  // LOOM-Scope's .jsonl, answer as text
  EXPECT_FALSE(samples[0].metadata.contains("num_choice"));
  try {
    load("Ada_LEval", {"textsort"}, "ada_leval", {6144});
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("textsort_6k.json"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace loom::benchmarks
