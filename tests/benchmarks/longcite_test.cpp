// LongCite's loader on tests/fixtures/benchmarks/longcite/LongBench-Cite.json (upstream's one-array layout) and on
// the per-task JSON-lines layout: tasks select records by `dataset` (multifieldqa takes _en and _zh), the prompt is
// pred_one_shot.py's (sentences after <C{i}> markers in one_shot_prompt.txt; checked byte for byte against upstream
// in tests/judge/longcite_judge_test.cpp), the metadata the judge reads, temperature 1 and 1024 new tokens.
#include "benchmarks/configured_benchmark.h"
#include "common/error.h"
#include "fake_tokenizer.h"
#include "test_support.h"

#include <gtest/gtest.h>

#include <fstream>

namespace loom::benchmarks {
namespace {

struct LongCiteLoader : ::testing::Test {
  BenchmarkRegistry registry{testing::configs_dir()};
  testing::FakeTokenizer tokenizer;
  std::vector<Sample> load(const std::string& task, const std::filesystem::path& dir) {
    return registry.get("LongCite").expand(testing::make_spec("LongCite", {task}, {}, -1, dir),
                                           PromptContext{&tokenizer, nullptr, 0});
  }
};

TEST_F(LongCiteLoader, RegistryEntry) {
  const auto& b = registry.get("longcite");
  EXPECT_EQ(b.name(), "LongCite");
  EXPECT_EQ(b.capability(), "Faithfulness");
  EXPECT_EQ(b.tasks(), (std::vector<std::string>{"longbench-chat", "multifieldqa", "hotpotqa", "dureader", "gov_report"}));
}

TEST_F(LongCiteLoader, TasksSelectByDatasetAndThePromptIsUpstreams) {
  const auto dir = testing::fixtures_dir() / "longcite";
  const auto hotpot = load("hotpotqa", dir);
  ASSERT_EQ(hotpot.size(), 1u);
  const Sample& s = hotpot[0];
  EXPECT_EQ(s.id, "0");
  const std::string context = s.metadata["context"];
  EXPECT_EQ(s.prompt, longcite_prompt(context, "Who designed the Riverside library?"));
  EXPECT_NE(s.prompt.find("[Document Start]\n<C0>The Riverside library opened in 1952. <C1>It was designed"),
            std::string::npos);
  EXPECT_NE(s.prompt.find("<C4>It reopened two years later with a café.\n[Document End]"), std::string::npos);
  EXPECT_EQ(s.references, (std::vector<std::string>{"Mara Lind"}));
  EXPECT_EQ(s.metadata["dataset"], "hotpotqa");
  EXPECT_EQ(s.metadata["query"], "Who designed the Riverside library?");
  EXPECT_EQ(s.metric, "longcite_citation_f1");
  EXPECT_EQ(s.generation.max_new_tokens, 1024);
  EXPECT_TRUE(s.generation.do_sample);
  EXPECT_FLOAT_EQ(s.generation.temperature, 1.0f);
  const auto mfqa = load("multifieldqa", dir);  // multifieldqa_zh's record
  ASSERT_EQ(mfqa.size(), 1u);
  EXPECT_EQ(mfqa[0].metadata["dataset"], "multifieldqa_zh");
  EXPECT_NE(mfqa[0].prompt.find("<C0>河畔图书馆建于1952年。<C1>它由建筑师玛拉·林德设计；<C2>"), std::string::npos);
  const auto chat = load("longbench-chat", dir);
  ASSERT_EQ(chat.size(), 1u);
  EXPECT_EQ(chat[0].metadata["few_shot_scores"].size(), 3u);
  EXPECT_TRUE(load("dureader", dir).empty());
}

TEST_F(LongCiteLoader, PerTaskJsonLinesAndClearErrors) {
  const auto dir = std::filesystem::temp_directory_path() / ("longcite_loader_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  {
    std::ofstream f(dir / "dureader.jsonl");
    f << R"({"idx": 7, "dataset": "dureader", "query": "q?", "context": "一句。两句。", "answer": ["a"]})" << "\n";
  }
  const auto rows = load("dureader", dir);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].id, "7");
  {
    std::ofstream f(dir / "dureader.jsonl");
    f << R"({"idx": 7, "dataset": "dureader", "query": "q?", "answer": ["a"]})" << "\n";
  }
  try {
    load("dureader", dir);
    ADD_FAILURE() << "a record without context was accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("context"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("dureader.jsonl"), std::string::npos) << e.what();
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace loom::benchmarks
