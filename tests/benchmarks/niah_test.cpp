// NIAH generator checks with the fake tokenizer: the depth × length grid, needle at the requested depth (±1% of the
// context), total length within 1% of the target, determinism, and the official option names.
#include "fake_tokenizer.h"
#include "test_support.h"

#include "benchmarks/prompt_builder.h"

#include <gtest/gtest.h>

namespace loom::benchmarks {
namespace {

struct NiahFixture : ::testing::Test {
  BenchmarkRegistry registry{testing::configs_dir()};
  testing::FakeTokenizer tokenizer;
  PromptContext ctx() const { return PromptContext{&tokenizer, nullptr, 0}; }
};

TEST_F(NiahFixture, GridDepthAndLength) {
  const auto& niah = registry.get("NIAH");
  auto spec = testing::make_spec("NIAH", {}, {4096, 16384}, -1, testing::data_dir() / "niah");
  spec.options["depths"] = {0, 10, 25, 50, 75, 90, 100};
  const auto samples = niah.expand(spec, ctx());
  ASSERT_EQ(samples.size(), 14u);
  for (const auto& s : samples) {
    SCOPED_TRACE(s.id);
    const std::string needle = s.metadata["needle"].get<std::string>();
    const size_t pos = s.prompt.find(needle);
    ASSERT_NE(pos, std::string::npos);
    const auto context_tokens = s.metadata["context_tokens"].get<double>();
    const double found = 100.0 * tokenizer.encode(s.prompt.substr(0, pos), false).size() / context_tokens;
    const double depth = s.metadata["depth_percent"].get<double>();
    EXPECT_NEAR(found, depth, 1.0);
    const int64_t total = static_cast<int64_t>(build_ids(s, ctx(), TruncationRule::kNone).size()) +
                          s.generation.max_new_tokens;
    EXPECT_NEAR(static_cast<double>(total), static_cast<double>(s.target_length), 0.01 * s.target_length);
    EXPECT_EQ(s.references, std::vector<std::string>{"The best thing to do in San Francisco is eat a sandwich and sit in Dolores Park on a sunny day."});
    EXPECT_NE(s.prompt.find("What is the best thing to do in San Francisco? Don't give information outside"),
              std::string::npos);
    EXPECT_EQ(s.metric, "niah_word_recall");
    EXPECT_EQ(s.generation.max_new_tokens, 50);
  }
  EXPECT_EQ(testing::digest(samples), testing::digest(niah.expand(spec, ctx())));
}

TEST_F(NiahFixture, OfficialGridOptionsAndCustomNeedle) {
  const auto& niah = registry.get("niah");
  auto spec = testing::make_spec("NIAH", {}, {}, -1, testing::data_dir() / "niah");
  spec.options["context_lengths_min"] = 1000;
  spec.options["context_lengths_max"] = 3000;
  spec.options["context_lengths_num_intervals"] = 3;
  spec.options["document_depth_percent_intervals"] = 5;
  spec.options["document_depth_percent_interval_type"] = "sigmoid";
  spec.options["needle"] = "\nThe secret ingredient is saffron.\n";
  spec.options["retrieval_question"] = "What is the secret ingredient?";
  spec.options["final_context_length_buffer"] = 200;
  const auto samples = niah.expand(spec, ctx());
  ASSERT_EQ(samples.size(), 15u);
  EXPECT_EQ(samples[0].target_length, 1000);
  EXPECT_EQ(samples[5].target_length, 2000);
  EXPECT_DOUBLE_EQ(samples[1].metadata["depth_percent"].get<double>(), 7.586);  // logistic(25) rounded
  EXPECT_DOUBLE_EQ(samples[4].metadata["depth_percent"].get<double>(), 100.0);
  EXPECT_EQ(samples[0].references[0], "The secret ingredient is saffron.");
  // Official buffer: the context (haystack + needle) is length − 200 tokens.
  EXPECT_EQ(samples[0].metadata["context_tokens"].get<int64_t>(), 800);
}

}  // namespace
}  // namespace loom::benchmarks
