// Which samples run: num_samples in file order, `shuffle` and --limit (a seeded shuffle per task and length, then the
// first N), on a real loader (LEval, data/slices) and on a generator; sample indices (results keys) never change.
#include "fake_tokenizer.h"
#include "test_support.h"

#include "benchmarks/sample_selection.h"

#include <gtest/gtest.h>

#include <set>

namespace loom::benchmarks {
namespace {

Sample sample(const std::string& task, int64_t length, int64_t index) {
  Sample s;
  s.task = task;
  s.target_length = length;
  s.index = index;
  s.id = task + "/" + std::to_string(length) + "/" + std::to_string(index);
  return s;
}

std::vector<Sample> grid() {
  std::vector<Sample> out;
  for (const char* task : {"a", "b"})
    for (int64_t length : {4096, 8192})
      for (int64_t i = 0; i < 20; ++i) out.push_back(sample(task, length, i));
  return out;
}

std::vector<int64_t> indices(const std::vector<Sample>& v, const std::string& task, int64_t length) {
  std::vector<int64_t> out;
  for (const auto& s : v)
    if (s.task == task && s.target_length == length) out.push_back(s.index);
  return out;
}

TEST(SampleSelection, NumSamplesInFileOrderShuffleAndLimit) {
  BenchmarkSpec spec;
  spec.num_samples = 3;
  auto first = select_samples(grid(), spec);
  EXPECT_EQ(indices(first, "a", 4096), (std::vector<int64_t>{0, 1, 2}));
  EXPECT_EQ(first.size(), 12u);

  spec.shuffle = true;
  auto shuffled = select_samples(grid(), spec);
  EXPECT_EQ(shuffled.size(), 12u);
  EXPECT_NE(indices(shuffled, "a", 4096), (std::vector<int64_t>{0, 1, 2}));
  EXPECT_NE(indices(shuffled, "a", 4096), indices(shuffled, "b", 4096));  // each (task, length) its own stream
  EXPECT_EQ(indices(select_samples(grid(), spec), "a", 8192), indices(shuffled, "a", 8192));  // deterministic
  spec.seed = 7;
  EXPECT_NE(indices(select_samples(grid(), spec), "a", 4096), indices(shuffled, "a", 4096));

  BenchmarkSpec limited;  // --limit: LOOM-Scope's shuffle then limit, whatever `shuffle` says
  limited.limit = 2;
  const auto two = select_samples(grid(), limited);
  EXPECT_EQ(two.size(), 8u);
  limited.num_samples = 5;  // the smaller cap wins
  EXPECT_EQ(select_samples(grid(), limited).size(), 8u);
  limited.limit = 9;
  EXPECT_EQ(select_samples(grid(), limited).size(), 20u);
  // The limited samples are the head of the full shuffled order: a limited run is a prefix of a larger one.
  BenchmarkSpec all_shuffled;
  all_shuffled.shuffle = true;
  const auto whole = indices(select_samples(grid(), all_shuffled), "b", 8192);
  EXPECT_EQ(indices(two, "b", 8192), std::vector<int64_t>(whole.begin(), whole.begin() + 2));
}

TEST(SampleSelection, ExpansionSpec) {
  BenchmarkSpec spec;
  spec.num_samples = 10;
  spec.limit = 3;
  EXPECT_EQ(expansion_spec(spec, /*synthetic=*/true).num_samples, 3);    // a generator makes only what runs
  EXPECT_EQ(expansion_spec(spec, /*synthetic=*/false).num_samples, -1);  // a loader hands over every record
  spec.limit = -1;
  EXPECT_EQ(expansion_spec(spec, false).num_samples, 10);  // file order: the loader may stop early
}

TEST(SampleSelection, LoaderAndGeneratorThroughTheRegistry) {
  BenchmarkRegistry registry{testing::configs_dir()};
  testing::FakeTokenizer tokenizer;
  const PromptContext ctx{&tokenizer, nullptr, 0};
  EXPECT_FALSE(registry.get("LongBench").synthetic());
  EXPECT_FALSE(registry.get("LEval").synthetic());
  EXPECT_TRUE(registry.get("RULER").synthetic());
  EXPECT_TRUE(registry.get("NIAH").synthetic());
  EXPECT_TRUE(registry.get("Counting_Stars").synthetic());

  auto spec = testing::make_spec("LEval", {"coursera"}, {}, -1, testing::data_dir() / "slices" / "LEval");
  const auto& bench = registry.get("LEval");
  const auto all = bench.expand(spec, ctx);
  ASSERT_GE(all.size(), 2u);
  spec.limit = 1;
  const auto one = select_samples(bench.expand(expansion_spec(spec, false), ctx), spec);
  ASSERT_EQ(one.size(), 1u);
  bool found = false;
  for (const auto& s : all) found = found || (s.id == one[0].id && s.index == one[0].index);
  EXPECT_TRUE(found) << "the limited sample keeps its id and index";

  auto ruler = testing::make_spec("RULER", {"niah_single_1"}, {1024}, 10, testing::data_dir() / "niah");
  ruler.limit = 2;
  const auto& generator = registry.get("RULER");
  const auto made = select_samples(generator.expand(expansion_spec(ruler, true), ctx), ruler);
  ASSERT_EQ(made.size(), 2u);
  std::set<int64_t> idx;
  for (const auto& s : made) idx.insert(s.index);
  EXPECT_EQ(idx, (std::set<int64_t>{0, 1}));
}

}  // namespace
}  // namespace loom::benchmarks
