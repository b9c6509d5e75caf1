// Counting-Stars generator against a Python re-statement of gen_test_data.ipynb
// (tests/fixtures/benchmarks/counting_stars/make_expected.py → expected.json: FNV-1a 64 of each context).
#include "test_support.h"

#include "common/error.h"
#include "benchmarks/data_files.h"

#include <gtest/gtest.h>


namespace loom::benchmarks {
namespace {

TEST(CountingStars, ContextsMatchTheOfficialConstruction) {
  BenchmarkRegistry registry(testing::configs_dir());
  const auto& bench = registry.get("Counting_Stars");
  auto spec = testing::make_spec("Counting_Stars", {}, {4000, 32000}, -1, testing::data_dir() / "counting_stars");
  const auto samples = bench.expand(spec, PromptContext{});
  ASSERT_EQ(samples.size(), 8u);
  const nlohmann::json expected = read_json(testing::fixtures_dir() / "counting_stars" / "expected.json");
  for (const auto& s : samples) {
    SCOPED_TRACE(s.id);
    const std::string question = s.metadata["retrieval_question"].get<std::string>();
    ASSERT_GT(s.prompt.size(), question.size());
    const std::string context = s.prompt.substr(0, s.prompt.size() - question.size());
    uint64_t h = 0xCBF29CE484222325ULL;
    for (unsigned char c : context) h = (h ^ c) * 0x100000001B3ULL;
    EXPECT_EQ(fmt::format("{:016x}", h), expected.at(s.id).get<std::string>());
    EXPECT_EQ(s.references.size(), 32u);
    EXPECT_EQ(s.references[0], "15");
    EXPECT_EQ(s.generation.max_new_tokens, 128);
  }
  EXPECT_EQ(samples[0].metric, "counting_stars_searching");
}

TEST(CountingStars, MissingStarFileNamesIt) {
  BenchmarkRegistry registry(testing::configs_dir());
  auto spec = testing::make_spec("Counting_Stars", {}, {4000}, 1, testing::fixtures_dir());
  try {
    registry.get("Counting_Stars").expand(spec, PromptContext{});
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("a_stars.txt"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("nick7nlp/Counting-Stars"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace loom::benchmarks
