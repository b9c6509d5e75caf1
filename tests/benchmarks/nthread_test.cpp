// NThread generator checks with the fake tokenizer: JSON UUID haystacks that fill the target length, the needle
// at the requested depth, threads whose links lead from the question's key to the answer in the requested
// direction, determinism per seed, and clear errors for bad options.
#include "fake_tokenizer.h"
#include "test_support.h"

#include "benchmarks/prompt_builder.h"
#include "common/error.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>

namespace loom::benchmarks {
namespace {

struct NThreadFixture : ::testing::Test {
  BenchmarkRegistry registry{testing::configs_dir()};
  testing::FakeTokenizer tokenizer;
  PromptContext ctx() const { return PromptContext{&tokenizer, nullptr, 0}; }
  // The haystack of a sample, parsed back (key order is kept in `order`).
  static nlohmann::ordered_json haystack(const Sample& s) {
    return nlohmann::ordered_json::parse(s.prompt.substr(0, static_cast<size_t>(s.question_begin)));
  }
};

TEST_F(NThreadFixture, SingleNeedleFillsLengthAtDepth) {
  const auto& nthread = registry.get("NThread");
  EXPECT_TRUE(nthread.synthetic());
  EXPECT_EQ(nthread.capability(), "Retrieval");
  const auto spec = testing::make_spec("NThread", {"Single_Needle"}, {2000, 4000}, 5, {});
  const auto samples = nthread.expand(spec, ctx());
  ASSERT_EQ(samples.size(), 10u);
  for (const auto& s : samples) {
    SCOPED_TRACE(s.id);
    const auto hay = haystack(s);
    ASSERT_EQ(static_cast<int64_t>(hay.size()), s.metadata["num_kv_pairs"].get<int64_t>());
    const std::string key = s.metadata["keys"][0].get<std::string>();
    ASSERT_EQ(s.references.size(), 1u);
    EXPECT_EQ(hay.at(key).get<std::string>(), s.references[0]);
    const double depth = s.metadata["needle_depth"].get<double>();
    EXPECT_EQ(depth, std::vector<double>({0, 25, 50, 75, 100})[static_cast<size_t>(s.index)]);
    size_t pos = 0;
    for (auto it = hay.begin(); it != hay.end() && it.key() != key; ++it) ++pos;
    EXPECT_NEAR(100.0 * static_cast<double>(pos) / static_cast<double>(hay.size() - 1), depth, 1.5);
    EXPECT_NE(s.prompt.find("}\nExtract the value corresponding to the specified key in the JSON object. Key: \"" +
                            key + "\"\n Corresponding value: "),
              std::string::npos);
    const int64_t total = static_cast<int64_t>(build_ids(s, ctx(), TruncationRule::kNone).size()) +
                          s.generation.max_new_tokens;
    EXPECT_LE(total, s.target_length);
    EXPECT_GT(total, s.target_length - 40);  // one more pair (about 24 fake tokens) would not fit
    EXPECT_EQ(s.metric, "nthread_all_values");
    EXPECT_EQ(s.generation.max_new_tokens, 1000);
    EXPECT_FALSE(s.generation.do_sample);
  }
  EXPECT_EQ(testing::digest(samples), testing::digest(nthread.expand(spec, ctx())));
  auto other_seed = spec;
  other_seed.seed = 7;
  EXPECT_NE(testing::digest(samples), testing::digest(nthread.expand(other_seed, ctx())));
}

TEST_F(NThreadFixture, ThreadsLeadFromKeyToAnswerInDirection) {
  const auto& nthread = registry.get("NThread");
  for (const std::string direction : {"forward", "backward"}) {
    auto spec = testing::make_spec("NThread", {"Single_Threads"}, {3000}, 4, {});
    spec.options["thread_direction"] = direction;
    spec.options["thread_length"] = 5;
    for (const auto& s : nthread.expand(spec, ctx())) {
      SCOPED_TRACE(s.id + " " + direction);
      const auto hay = haystack(s);
      std::vector<std::string> order;
      for (auto it = hay.begin(); it != hay.end(); ++it) order.push_back(it.key());
      std::string at = s.metadata["keys"][0].get<std::string>();
      std::vector<size_t> positions;
      while (hay.contains(at)) {
        positions.push_back(static_cast<size_t>(std::find(order.begin(), order.end(), at) - order.begin()));
        at = hay.at(at).get<std::string>();
      }
      EXPECT_EQ(positions.size(), 5u);
      EXPECT_EQ(positions, s.metadata["needle_positions"].get<std::vector<size_t>>());
      EXPECT_TRUE(direction == "forward" ? std::is_sorted(positions.begin(), positions.end())
                                         : std::is_sorted(positions.rbegin(), positions.rend()));
      EXPECT_EQ(s.references, std::vector<std::string>{at});
      EXPECT_EQ(s.metadata["thread_direction"], direction);
    }
  }
}

TEST_F(NThreadFixture, MultiThreadsFollowEveryThread) {
  const auto& nthread = registry.get("NThread");
  auto spec = testing::make_spec("NThread", {"Multi_Threads"}, {4000}, 3, {});
  spec.options["num_threads"] = 3;
  spec.options["thread_direction"] = "backward";
  for (const auto& s : nthread.expand(spec, ctx())) {
    SCOPED_TRACE(s.id);
    const auto hay = haystack(s);
    const auto keys = s.metadata["keys"].get<std::vector<std::string>>();
    ASSERT_EQ(keys.size(), 3u);
    ASSERT_EQ(s.references.size(), 3u);
    for (size_t t = 0; t < keys.size(); ++t) {
      std::string at = keys[t];
      int links = 0;
      for (; hay.contains(at); ++links) at = hay.at(at).get<std::string>();
      EXPECT_EQ(links, 3);
      EXPECT_EQ(at, s.references[t]);
    }
    EXPECT_EQ(s.metadata["needle_positions"].size(), 9u);
    EXPECT_NE(s.prompt.find("Keys: [\"" + keys[0] + "\", \"" + keys[1] + "\", \""), std::string::npos);
  }
}

TEST_F(NThreadFixture, MultipleNeedlesAnswerEveryValue) {
  const auto& nthread = registry.get("NThread");
  auto spec = testing::make_spec("NThread", {"Multiple_Needles"}, {3000}, 3, {});
  spec.options["num_needles"] = 4;
  for (const auto& s : nthread.expand(spec, ctx())) {
    const auto hay = haystack(s);
    const auto keys = s.metadata["keys"].get<std::vector<std::string>>();
    ASSERT_EQ(keys.size(), 4u);
    ASSERT_EQ(s.references.size(), 4u);
    for (size_t k = 0; k < keys.size(); ++k) EXPECT_EQ(hay.at(keys[k]).get<std::string>(), s.references[k]);
    EXPECT_NE(s.prompt.find("Keys: [\"" + keys[0] + "\", \""), std::string::npos);
  }
}

TEST_F(NThreadFixture, ConditionalNeedlesMarkTheirKeys) {
  const auto& nthread = registry.get("NThread");
  auto spec = testing::make_spec("NThread", {"Conditional_Needles"}, {3000}, 3, {});
  spec.options["num_needles"] = 3;
  spec.options["conditional_character"] = "&";
  for (const auto& s : nthread.expand(spec, ctx())) {
    SCOPED_TRACE(s.id);
    const auto hay = haystack(s);
    std::vector<std::string> marked_values;
    for (auto it = hay.begin(); it != hay.end(); ++it) {
      if (it.key().find('&') == std::string::npos) continue;
      EXPECT_EQ(it.key().size(), 36u);
      EXPECT_EQ(std::count(it.key().begin(), it.key().end(), '-'), 4);
      marked_values.push_back(it.value().get<std::string>());
    }
    std::vector<std::string> refs = s.references;
    std::sort(refs.begin(), refs.end());
    std::sort(marked_values.begin(), marked_values.end());
    EXPECT_EQ(refs, marked_values);
    EXPECT_EQ(refs.size(), 3u);
    EXPECT_NE(s.prompt.find("that contain the character \"&\""), std::string::npos);
  }
  spec.options["conditional_character"] = "a";
  EXPECT_THROW(nthread.expand(spec, ctx()), InputError);
}

TEST_F(NThreadFixture, BadOptionsAndShortLengthsAreInputErrors) {
  const auto& nthread = registry.get("NThread");
  auto spec = testing::make_spec("NThread", {"Single_Threads"}, {2000}, 1, {});
  spec.options["thread_direction"] = "sideways";
  EXPECT_THROW(nthread.expand(spec, ctx()), InputError);
  spec.options.erase("thread_direction");
  spec.options["thread_length"] = 0;
  EXPECT_THROW(nthread.expand(spec, ctx()), InputError);
  auto tiny = testing::make_spec("NThread", {"Single_Needle"}, {1010}, 1, {});
  EXPECT_THROW(nthread.expand(tiny, ctx()), InputError);  // 1000 new tokens leave no room for a pair
  auto depth = testing::make_spec("NThread", {"Single_Needle"}, {2000}, 1, {});
  depth.options["depths"] = {120};
  EXPECT_THROW(nthread.expand(depth, ctx()), InputError);
}

}  // namespace
}  // namespace loom::benchmarks
