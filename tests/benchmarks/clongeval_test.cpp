// CLongEval loader on fixtures in both layouts (tests/fixtures/benchmarks/clongeval): the HF dataset's
// <N-N_task>/<size>.jsonl and LOOM-Scope's <task>_<size>.jsonl; prompts = config/dataset2prompt.json with the
// context (and query) in inference.py's order; max_new_tokens = config/dataset2maxlen.json; each task's metric.
#include "fake_tokenizer.h"
#include "test_support.h"

#include "common/error.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>

namespace loom::benchmarks {
namespace {

struct CLongEvalLoader : ::testing::Test {
  BenchmarkRegistry registry{testing::configs_dir()};
  testing::FakeTokenizer tokenizer;
  std::vector<Sample> load(std::vector<std::string> tasks, const std::filesystem::path& dir) {
    return registry.get("CLongEval").expand(testing::make_spec("CLongEval", std::move(tasks), {}, -1, dir),
                                            PromptContext{&tokenizer, nullptr, 0});
  }
};

TEST_F(CLongEvalLoader, RegistryEntryHasSevenTasksInThreeSizes) {
  const auto& b = registry.get("clongeval");
  EXPECT_EQ(b.name(), "CLongEval");
  EXPECT_EQ(b.capability(), "Specialization");
  const std::vector<std::string> tasks = b.tasks();
  ASSERT_EQ(tasks.size(), 21u);
  for (const std::string task : {"LStQA", "LCvMem", "LStSum", "StNLab", "StTDet", "KpRet", "TblQry"})
    for (const std::string size : {"_S", "_M", "_L"})
      EXPECT_NE(std::find(tasks.begin(), tasks.end(), task + size), tasks.end()) << task + size;
}

TEST_F(CLongEvalLoader, HfLayoutPromptsLengthsAndMetrics) {
  const auto samples = load({"LStQA_S", "LCvMem_S", "LStSum_S", "StNLab_S", "StTDet_S", "KpRet_S", "TblQry_S"},
                            testing::fixtures_dir() / "clongeval");
  ASSERT_EQ(samples.size(), 13u);
  std::map<std::string, const Sample*> first;
  for (const auto& s : samples) first.emplace(s.task, &s);
  const Sample& qa = *first.at("LStQA_S");
  EXPECT_EQ(qa.id, "lstqa-s-1");
  EXPECT_EQ(qa.references, std::vector<std::string>{"村北头河西边的高岸上。"});
  EXPECT_EQ(qa.prompt.substr(0, 60), std::string("下面是一部小说的节选。请阅读该小说节选，").substr(0, 60));
  const std::string qa_tail = "\n\n请尽可能简洁地回答下列问题，不要提供任何解释。\n问题：小说第一回，金斗坪村的龙王庙建在哪里？\n答案：";
  ASSERT_GE(qa.prompt.size(), qa_tail.size());
  EXPECT_EQ(qa.prompt.substr(qa.prompt.size() - qa_tail.size()), qa_tail);
  EXPECT_EQ(qa.prompt.substr(static_cast<size_t>(qa.question_begin)), qa_tail);  // query_aware: false split
  EXPECT_TRUE(qa.use_chat_template);
  EXPECT_FALSE(qa.generation.do_sample);

  // LCvMem: the query follows the dialogue directly ("{}{}" upstream).
  const Sample& mem = *first.at("LCvMem_S");
  const std::string mem_tail = "AI伴侣：听起来很开心！\n4月27日，我和你推荐过一本书，书名是什么？\n答案：";
  EXPECT_EQ(mem.prompt.substr(mem.prompt.size() - mem_tail.size()), mem_tail);

  // Tasks without a query format the context only.
  const Sample& news = *first.at("StNLab_S");
  EXPECT_EQ(news.prompt.substr(news.prompt.size() - std::string("\n\n每个新闻的所属类别依次为：\n").size()),
            "\n\n每个新闻的所属类别依次为：\n");
  EXPECT_EQ(news.references, std::vector<std::string>{"新闻 1：体育\n新闻 2：家居"});

  const std::map<std::string, std::pair<int, std::string>> expected = {
      {"LStQA_S", {100, "clongeval_qa_f1_zh"}},        {"LCvMem_S", {100, "clongeval_qa_f1_zh"}},
      {"LStSum_S", {400, "clongeval_rouge_zh"}},       {"StNLab_S", {800, "clongeval_news_labeling"}},
      {"StTDet_S", {800, "clongeval_typo_detection"}}, {"KpRet_S", {400, "clongeval_retrieval_edit"}},
      {"TblQry_S", {50, "clongeval_table_match"}}};
  for (const auto& [task, want] : expected) {
    SCOPED_TRACE(task);
    EXPECT_EQ(first.at(task)->generation.max_new_tokens, want.first);
    EXPECT_EQ(first.at(task)->metric, want.second);
    EXPECT_EQ(first.at(task)->benchmark, "CLongEval");
  }
  const Sample& kv = *first.at("KpRet_S");
  EXPECT_NE(kv.prompt.find("\n\n键：4JJ8T0BlIKNuQzcyEKYZvZnFQvLsUWzu\n值："), std::string::npos);
}

TEST_F(CLongEvalLoader, LoomScopeLayoutIsReadWhenTheHfFileIsAbsent) {
  const auto samples = load({"KpRet_M", "LStQA_M"}, testing::fixtures_dir() / "clongeval");
  ASSERT_EQ(samples.size(), 2u);
  EXPECT_EQ(samples[0].id, "kpret-m-1");
  EXPECT_EQ(samples[0].metadata["source_file"], "KpRet_M.jsonl");
  EXPECT_EQ(samples[1].references, std::vector<std::string>{"老槐树"});
}

TEST_F(CLongEvalLoader, MissingFileNamesThePublishedLayout) {
  try {
    load({"TblQry_L"}, testing::fixtures_dir() / "clongeval");
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("4-2_table_querying/large.jsonl"), std::string::npos) << what;
    EXPECT_NE(what.find("zexuanqiu22/CLongEval"), std::string::npos) << what;
  }
}

}  // namespace
}  // namespace loom::benchmarks
