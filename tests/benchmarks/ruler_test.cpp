// RULER generator checks with the fake tokenizer: determinism (same seed → identical bytes, other seed → different),
// token length within 1% of the target, needle presence and depth, references in the prompt, and the qa tasks on
// small SQuAD/HotpotQA fixtures.
#include "fake_tokenizer.h"
#include "test_support.h"

#include "common/error.h"
#include "benchmarks/prompt_builder.h"
#include "benchmarks/text_util.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>

namespace loom::benchmarks {
namespace {

using testing::FakeTokenizer;

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

struct RulerFixture : ::testing::Test {
  BenchmarkRegistry registry{testing::configs_dir()};
  FakeTokenizer tokenizer;
  PromptContext ctx() const { return PromptContext{&tokenizer, nullptr, 0}; }
  std::filesystem::path data_dir() const { return testing::data_dir() / "niah"; }
};

TEST_F(RulerFixture, SameSeedSameBytesOtherSeedDiffers) {
  const auto& ruler = registry.get("ruler");
  auto spec = testing::make_spec("RULER", {"niah_single_1", "niah_multikey_3", "niah_multivalue", "vt", "cwe", "fwe"},
                                 {2048}, 2, data_dir());
  const auto a = ruler.expand(spec, ctx());
  const auto b = ruler.expand(spec, ctx());
  ASSERT_EQ(a.size(), 12u);
  EXPECT_EQ(testing::digest(a), testing::digest(b));
  spec.seed = 7;
  EXPECT_NE(testing::digest(ruler.expand(spec, ctx())), testing::digest(a));
  EXPECT_NE(a[0].prompt, a[1].prompt);  // samples of one task differ from each other
}

TEST_F(RulerFixture, EveryTaskFitsItsTargetAndHoldsItsAnswers) {
  const auto& ruler = registry.get("RULER");
  auto spec = testing::make_spec("RULER", {}, {4096}, 1, testing::fixtures_dir() / "ruler");
  spec.options["essay_json"] = (testing::fixtures_dir() / "ruler" / "PaulGrahamEssays.json").string();
  const auto samples = ruler.expand(spec, ctx());
  ASSERT_EQ(samples.size(), 13u);
  for (const auto& s : samples) {
    SCOPED_TRACE(s.task);
    const int64_t total = static_cast<int64_t>(build_ids(s, ctx(), TruncationRule::kNone).size()) +
                          s.generation.max_new_tokens;
    EXPECT_LE(total, 4096);
    // cwe/fwe grow in coarse units (a numbered word, a Zipf-scaled word list); the others within 1%.
    EXPECT_GE(total, s.task == "fwe" ? 4096 * 0.96 : 4096 * 0.99);
    ASSERT_FALSE(s.references.empty());
    if (s.task != "cwe" && s.task != "fwe")
      for (const auto& r : s.references) EXPECT_NE(lower(s.prompt).find(lower(r)), std::string::npos) << r;
    EXPECT_FALSE(s.answer_prefix.empty());
    EXPECT_EQ(s.metric, (s.task == "qa_1" || s.task == "qa_2") ? "string_match_part" : "string_match_all");
  }
}

TEST_F(RulerFixture, SingleNeedleTemplateIsSingularised) {
  const auto& ruler = registry.get("RULER");
  auto spec = testing::make_spec("RULER", {"niah_single_1", "niah_multivalue"}, {1024}, 1, data_dir());
  const auto samples = ruler.expand(spec, ctx());
  ASSERT_EQ(samples.size(), 2u);
  EXPECT_EQ(samples[0].prompt.rfind("A special magic number is hidden within the following text.", 0), 0u);
  EXPECT_NE(samples[0].prompt.find("What is the special magic number for"), std::string::npos);
  EXPECT_NE(samples[0].answer_prefix.find("mentioned in the provided text is"), std::string::npos);
  EXPECT_EQ(samples[1].prompt.rfind("Some special magic numbers are hidden", 0), 0u);
  EXPECT_EQ(samples[1].references.size(), 4u);
  EXPECT_EQ(samples[0].references[0].size(), 7u);  // 7-digit number
}

// RULER places needles between sentences: at sentence int(n_sentences * depth / 100) (its notion of depth).
TEST_F(RulerFixture, EssayNeedlesSitAtTheirDrawnDepths) {
  const auto& ruler = registry.get("RULER");
  auto spec = testing::make_spec("RULER", {"niah_multikey_1"}, {16384}, 3, data_dir());
  for (const auto& s : ruler.expand(spec, ctx())) {
    SCOPED_TRACE(s.id);
    const auto& needles = s.metadata.at("needles");
    const auto& depths = s.metadata.at("needle_depths");
    const auto& positions = s.metadata.at("needle_sentence_positions");
    const double total = s.metadata.at("haystack_sentences").get<double>();
    ASSERT_EQ(needles.size(), 4u);
    const size_t ctx_begin = s.prompt.find('\n') + 1;
    for (size_t i = 0; i < needles.size(); ++i) {
      const size_t pos = s.prompt.find(needles[i].get<std::string>());
      ASSERT_NE(pos, std::string::npos);
      // Sentences before the needle, minus the needles placed before it.
      const double before = static_cast<double>(split_sentences(s.prompt.substr(ctx_begin, pos - ctx_begin)).size() - i);
      EXPECT_EQ(before, positions[i].get<double>());
      EXPECT_NEAR(100.0 * before / total, depths[i].get<double>(), 1.0);
    }
  }
}

TEST_F(RulerFixture, QaTasksUseTheUserSuppliedFiles) {
  const auto& ruler = registry.get("RULER");
  auto spec = testing::make_spec("RULER", {"qa_1", "qa_2"}, {1024}, 2, testing::fixtures_dir() / "ruler");
  const auto samples = ruler.expand(spec, ctx());
  ASSERT_EQ(samples.size(), 4u);
  EXPECT_NE(samples[0].prompt.find("Document 1:\n"), std::string::npos);
  EXPECT_NE(samples[0].prompt.find("Question: "), std::string::npos);
  EXPECT_EQ(samples[0].answer_prefix, " Answer:");
  EXPECT_NE(samples[0].metadata["question_index"], samples[1].metadata["question_index"]);
  auto missing = testing::make_spec("RULER", {"qa_2"}, {1024}, 1, testing::fixtures_dir());
  try {
    ruler.expand(missing, ctx());
    FAIL() << "expected an InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("hotpotqa.json"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("data_dir"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace loom::benchmarks
