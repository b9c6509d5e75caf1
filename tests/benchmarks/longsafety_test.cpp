// LongSafety's loader on tests/fixtures/benchmarks/longsafety/longsafety.jsonl (upstream's meta and docs records
// joined, as tools/fetch_data.py writes them): gen_model_response.py build_prompt's two orders, file order and ids,
// the metadata its judge reads (instruction, context) and the categories, greedy 2048 new tokens.
#include "fake_tokenizer.h"
#include "test_support.h"

#include <gtest/gtest.h>

namespace loom::benchmarks {
namespace {

struct LongSafetyLoader : ::testing::Test {
  BenchmarkRegistry registry{testing::configs_dir()};
  testing::FakeTokenizer tokenizer;
  std::vector<Sample> load(const std::string& task) {
    return registry.get("LongSafety").expand(
        testing::make_spec("LongSafety", {task}, {}, -1, testing::fixtures_dir() / "longsafety"),
        PromptContext{&tokenizer, nullptr, 0});
  }
};

TEST_F(LongSafetyLoader, RegistryEntry) {
  const auto& b = registry.get("longsafety");
  EXPECT_EQ(b.name(), "LongSafety");
  EXPECT_EQ(b.capability(), "Specialization");
  EXPECT_EQ(b.tasks(), (std::vector<std::string>{"longsafety_front", "longsafety_end"}));
}

TEST_F(LongSafetyLoader, BothPromptOrdersAsUpstream) {
  const auto front = load("longsafety_front");
  const auto end = load("longsafety_end");
  ASSERT_EQ(front.size(), 3u);
  ASSERT_EQ(end.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(front[i].id, std::to_string(i));  // file order, upstream ids
    const std::string instruction = front[i].metadata["instruction"];
    const std::string context = front[i].metadata["context"];
    EXPECT_EQ(front[i].prompt, "Based on the following long context, " + instruction + "\n\n" + context);
    EXPECT_EQ(end[i].prompt, context + "\n\nBased on the long context above, " + instruction);
    EXPECT_EQ(front[i].metric, "longsafety_safety");
    EXPECT_TRUE(front[i].references.empty());
    EXPECT_EQ(front[i].generation.max_new_tokens, 2048);
    EXPECT_FALSE(front[i].generation.do_sample);
  }
  // A brace in the instruction stays as it is (upstream's f-string).
  EXPECT_NE(front[2].prompt.find("summarize the text {with braces} and"), std::string::npos);
  EXPECT_EQ(front[0].metadata["safety_type"], "Privacy & Property");
  EXPECT_EQ(front[0].metadata["task_type"], "Question Answering");
  EXPECT_EQ(front[1].metadata["key_words"], nlohmann::json::array({"Stereotypes"}));
}

}  // namespace
}  // namespace loom::benchmarks
