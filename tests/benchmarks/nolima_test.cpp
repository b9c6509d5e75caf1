// NoLiMa generator against adobe-research/NoLiMa's own code: tests/fixtures/benchmarks/nolima/expected.jsonl holds,
// for the fixture needle sets and books with the llama3_tiny tokenizer, the prompts data/book_haystack.py places
// (imported unchanged) with NumPy's legacy RNG choosing the characters and distractor depths
// (tools/fixtures/parity/nolima_eval.py). Also: options, errors, num_samples and determinism.
#include "fake_tokenizer.h"
#include "test_support.h"

#include "benchmarks/numpy_legacy_rng.h"
#include "common/error.h"
#include "text/tokenizer.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <tuple>

namespace loom::benchmarks {
namespace {

std::filesystem::path nolima_dir() { return testing::fixtures_dir() / "nolima"; }

struct NoLiMaFixture : ::testing::Test {
  BenchmarkRegistry registry{testing::configs_dir()};
  testing::FakeTokenizer fake;
  PromptContext fake_ctx() const { return PromptContext{&fake, nullptr, 0}; }
  BenchmarkSpec spec(std::vector<std::string> tasks, std::vector<int64_t> lengths, int64_t n = -1) const {
    return testing::make_spec("NoLiMa", std::move(tasks), std::move(lengths), n, nolima_dir());
  }
};

TEST(NumpyLegacyRng, MatchesNumpyRandomState) {
  // np.random.seed(443); [np.random.randint(0, 10) for _ in range(5)]; np.random.uniform(0, 1)
  NumpyLegacyRng rng(443);
  std::vector<uint64_t> got;
  for (int i = 0; i < 5; ++i) got.push_back(rng.index_below(10));
  EXPECT_EQ(got, (std::vector<uint64_t>{9, 0, 2, 2, 0}));
  EXPECT_DOUBLE_EQ(rng.uniform(0, 1), 0.5971550583304619);
  NumpyLegacyRng one(1);
  EXPECT_EQ(one.index_below(1), 0u);  // no draw for a one-element list
}

TEST_F(NoLiMaFixture, RegistryEntry) {
  const auto& b = registry.get("nolima");
  EXPECT_EQ(b.name(), "NoLiMa");
  EXPECT_EQ(b.capability(), "Retrieval");
  EXPECT_TRUE(b.synthetic());
  EXPECT_EQ(b.tasks().size(), 6u);
}

TEST_F(NoLiMaFixture, PlacementsAndCharactersMatchUpstreamCode) {
  const auto tokenizer = text::load_tokenizer(testing::source_dir() / "tests" / "fixtures" / "models" / "llama3_tiny");
  const PromptContext ctx{tokenizer.get(), nullptr, 0};
  std::map<std::tuple<std::string, std::string, int64_t, double>, nlohmann::json> expected;
  std::ifstream in(nolima_dir() / "expected.jsonl");
  std::string line;
  while (std::getline(in, line)) {
    const auto row = nlohmann::json::parse(line);
    expected[{row["test_name"].get<std::string>(), row["book"].get<std::string>(), row["length"].get<int64_t>(),
              row["depth_percent"].get<double>()}] = row;
  }
  ASSERT_EQ(expected.size(), 92u);
  size_t compared = 0;
  for (const auto& [task, intervals] : {std::pair<std::string, int>{"needle_set", 4}, {"needle_set_w_Distractor", 3}}) {
    auto s = spec({task}, {250, 600});
    s.options["document_depth_percent_intervals"] = intervals;
    for (const Sample& sample : registry.get("NoLiMa").expand(s, ctx)) {
      SCOPED_TRACE(sample.id);
      const auto it = expected.find({sample.metadata.at("test_name").get<std::string>(),
                                     sample.metadata.at("haystack").get<std::string>(), sample.target_length,
                                     sample.metadata.at("depth_percent").get<double>()});
      ASSERT_NE(it, expected.end());
      const nlohmann::json& row = it->second;
      EXPECT_EQ(sample.prompt, row["prompt"].get<std::string>());
      EXPECT_EQ(sample.references, row["references"].get<std::vector<std::string>>());
      EXPECT_EQ(sample.metadata.at("token_depth"), row["token_depth"]);
      if (!row["selected_character"].is_null())
        EXPECT_EQ(sample.metadata.at("selected_character"), row["selected_character"]);
      if (!row["distractor_depth"].is_null())
        EXPECT_DOUBLE_EQ(sample.metadata.at("distractor_depth").get<double>(), row["distractor_depth"].get<double>());
      EXPECT_EQ(sample.system_prompt, "You are a helpful assistant");
      EXPECT_EQ(sample.generation.max_new_tokens, 192);
      EXPECT_FALSE(sample.generation.do_sample);
      EXPECT_EQ(sample.metric, "nolima_contains");
      ASSERT_GT(sample.question_begin, 0);
      EXPECT_EQ(sample.prompt.substr(static_cast<size_t>(sample.question_begin), 2), "\n\n");
      ++compared;
    }
  }
  EXPECT_EQ(compared, expected.size());
}

TEST_F(NoLiMaFixture, GoldAnswersQuestionsAndIds) {
  auto s = spec({"needle_set"}, {250});
  s.options["document_depth_percent_intervals"] = 2;
  const auto samples = registry.get("NoLiMa").expand(s, fake_ctx());
  // 2 books x (experiment 0401: 2 question types x 2 tests + experiment 0502_x: 1) x 2 depths
  ASSERT_EQ(samples.size(), 20u);
  std::map<std::string, const Sample*> by_id;
  for (const auto& x : samples) by_id[x.id] = &x;
  const Sample& honey = *by_id.at("0502_x_T05_onehop_rand_book_1_250_0");
  EXPECT_EQ(honey.references, (std::vector<std::string>{"honey", "wildflower honey"}));
  EXPECT_NE(honey.prompt.find(" The old lighthouse keeper kept a jar of wildflower honey on the windowsill.\n"),
            std::string::npos);
  const Sample& twohop = *by_id.at("0401_T02_C01_twohop_rand_book_2_250_100");
  EXPECT_NE(twohop.prompt.find("Question: Which character has been to Saxony?\n\n Return only"), std::string::npos);
  EXPECT_NE(twohop.prompt.find("Actually, " + twohop.references[0] + " lives next to the Semper Opera House."),
            std::string::npos);
  EXPECT_EQ(twohop.metadata.at("reasoning_type"), "world_knowledge");
  EXPECT_EQ(testing::digest(samples), testing::digest(registry.get("NoLiMa").expand(s, fake_ctx())));
  s.options["base_seed"] = 7;
  EXPECT_NE(testing::digest(samples), testing::digest(registry.get("NoLiMa").expand(s, fake_ctx())));
}

TEST_F(NoLiMaFixture, MetricOptionAndNumSamples) {
  auto s = spec({"needle_set"}, {250, 600}, 3);
  s.options["metric"] = "lastline_EM";
  const auto samples = registry.get("NoLiMa").expand(s, fake_ctx());
  ASSERT_EQ(samples.size(), 6u);  // 3 per length
  for (const auto& x : samples) EXPECT_EQ(x.metric, "nolima_lastline_em");
  s.options["metric"] = "F1";
  try {
    registry.get("NoLiMa").expand(s, fake_ctx());
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_EQ(e.key(), "options.metric");
  }
}

TEST_F(NoLiMaFixture, ClearErrors) {
  try {  // a needle set that is not there: names the file and where it is published
    registry.get("NoLiMa").expand(spec({"needle_set_hard"}, {250}), fake_ctx());
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("needlesets/needle_set_hard.json"), std::string::npos) << what;
    EXPECT_NE(what.find("amodaresi/NoLiMa"), std::string::npos) << what;
  }
  try {  // a window longer than the book
    registry.get("NoLiMa").expand(spec({"needle_set"}, {100000}, 1), fake_ctx());
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("haystack book"), std::string::npos) << e.what();
  }
  auto s = spec({"needle_set"}, {250});
  s.options["haystack_dir"] = "needlesets";
  EXPECT_THROW(registry.get("NoLiMa").expand(s, fake_ctx()), InputError);  // no *.txt there
}

}  // namespace
}  // namespace loom::benchmarks
