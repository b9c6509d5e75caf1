// LooGLE's loader: LooGLE's own layout (one document per line, qa_pairs as the str() of a Python list, "none" for
// summarization) and LOOM-Scope's (one QA pair per line), the official prompts, per-task max_new_tokens, the cloze
// reference as a JSON object, the metadata that records what is not computed or applied, and METEOR left out of the
// row's metrics (with the reason) when the WordNet database is missing.
#include "benchmarks/registry.h"
#include "common/error.h"
#include "test_support.h"

#include <gtest/gtest.h>

#include <fstream>

namespace loom::benchmarks {
namespace {

std::vector<Sample> expand(const std::string& task, const std::filesystem::path& dir, int64_t n = -1,
                           nlohmann::json options = nlohmann::json::object()) {
  BenchmarkRegistry registry(testing::configs_dir());
  BenchmarkSpec spec = testing::make_spec("LooGLE", {task}, {}, n, dir);
  spec.options = std::move(options);
  return registry.get("LooGLE").expand(spec, PromptContext{});
}

TEST(LooGLE, RegisteredWithItsFourTasks) {
  BenchmarkRegistry registry(testing::configs_dir());
  const auto& b = registry.get("loogle");
  EXPECT_EQ(b.name(), "LooGLE");
  EXPECT_EQ(b.capability(), "General");
  EXPECT_EQ(b.tasks(), (std::vector<std::string>{"shortdep_qa", "longdep_qa", "longdep_summarization", "shortdep_cloze"}));
}

TEST(LooGLE, NativeQaPairsBecomeOneSampleEach) {
  const auto samples = expand("shortdep_qa", testing::fixtures_dir() / "loogle");
  ASSERT_EQ(samples.size(), 4u);  // two documents, two QA pairs each
  const Sample& s = samples[0];
  EXPECT_EQ(s.id, "shortdep_qa_1_0");
  EXPECT_EQ(s.prompt.rfind("Please answer the question based on the long texts below. \n Early life. Picardo", 0), 0u);
  EXPECT_NE(s.prompt.find("\nQuestion: Where was José Luis Picardo born and raised?\nAnswer: "), std::string::npos);
  EXPECT_EQ(s.prompt.substr(static_cast<size_t>(s.question_begin), 11), "\nQuestion: ");
  ASSERT_EQ(s.references.size(), 1u);
  EXPECT_EQ(s.references[0].rfind("He was born in Jerez de la Frontera", 0), 0u);
  EXPECT_EQ(s.generation.max_new_tokens, 300);
  EXPECT_FALSE(s.generation.do_sample);
  EXPECT_EQ(s.metadata["upstream_repetition_penalty"], 2.0);
  EXPECT_EQ(s.metadata["title"], "José Luis Picardo");
  EXPECT_TRUE(s.metadata["not_computed"].contains("bertscore"));
  EXPECT_EQ(s.metric, "loogle_bleu1,loogle_bleu4,loogle_rouge1,loogle_rouge2,loogle_rougel,loogle_meteor");
  EXPECT_EQ(s.metadata["wordnet_dir"], "/usr/share/wordnet");
  EXPECT_EQ(expand("shortdep_qa", testing::fixtures_dir() / "loogle", 3).size(), 3u);
}

TEST(LooGLE, SummarizationAndClozeAndLongDependency) {
  const auto summ = expand("longdep_summarization", testing::fixtures_dir() / "loogle");
  ASSERT_EQ(summ.size(), 1u);
  EXPECT_EQ(summ[0].prompt.rfind("Please generate a summary of the below paper. \nDistinction", 0), 0u);
  EXPECT_EQ(summ[0].prompt.substr(summ[0].prompt.size() - 17), "\n Summarization: ");
  EXPECT_EQ(summ[0].references[0].rfind("In this article, we study Prasad's conjecture", 0), 0u);
  EXPECT_EQ(summ[0].generation.max_new_tokens, 500);

  const auto cloze = expand("shortdep_cloze", testing::fixtures_dir() / "loogle");
  ASSERT_EQ(cloze.size(), 2u);
  EXPECT_EQ(cloze[0].metric, "loogle_cloze_exact,loogle_cloze_partial");
  EXPECT_EQ(nlohmann::json::parse(cloze[0].references[0])["<mask-2>"], "Kentwood");
  EXPECT_NE(cloze[0].prompt.find("for example: {'<mask-0>': 'Bob', '<mask-1>': 'Gorrosion Magazine','<mask-2>': "
                                 "'Bethel Horizon'}\n"),
            std::string::npos);
  EXPECT_NE(cloze[0].prompt.find(" What are the masked entities? \nAnswer:"), std::string::npos);
  EXPECT_EQ(cloze[0].generation.max_new_tokens, 50);

  const auto longdep = expand("longdep_qa", testing::fixtures_dir() / "loogle");
  ASSERT_EQ(longdep.size(), 1u);
  EXPECT_EQ(longdep[0].references[0], "3");
  EXPECT_EQ(longdep[0].generation.max_new_tokens, 500);
}

TEST(LooGLE, LoomScopeLayoutOnePairPerLine) {
  const auto samples = expand("longdep_qa", testing::fixtures_dir() / "loomscope" / "LooGLE");
  ASSERT_EQ(samples.size(), 2u);
  EXPECT_EQ(samples[0].id, "longdep_qa_1");
  EXPECT_EQ(samples[0].references[0], "3");
  EXPECT_NE(samples[0].prompt.find("\nQuestion: How many people were in Picardo's family when he was twelve?"),
            std::string::npos);
}

TEST(LooGLE, MeteorLeftOutWithTheReasonWithoutWordNet) {
  const auto samples =
      expand("shortdep_qa", testing::fixtures_dir() / "loogle", 1, {{"wordnet_dir", "/no/such/wordnet"}});
  ASSERT_EQ(samples.size(), 1u);
  EXPECT_EQ(samples[0].metric, "loogle_bleu1,loogle_bleu4,loogle_rouge1,loogle_rouge2,loogle_rougel");
  const std::string reason = samples[0].metadata["not_computed"]["meteor"];
  EXPECT_NE(reason.find("/no/such/wordnet"), std::string::npos);
  EXPECT_FALSE(samples[0].metadata.contains("wordnet_dir"));
}

TEST(LooGLE, BadRecordsNameFileLineAndField) {
  const auto dir = std::filesystem::temp_directory_path() / "loogle_bad_records";
  std::filesystem::create_directories(dir);
  {
    std::ofstream(dir / "shortdep_qa.jsonl") << R"({"input": "doc", "qa_pairs": "[{'Q': 'q'"})" << "\n";
  }
  try {
    expand("shortdep_qa", dir);
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_EQ(e.key(), "qa_pairs");
    EXPECT_NE(std::string(e.what()).find("shortdep_qa.jsonl"), std::string::npos);
  }
  {
    std::ofstream(dir / "shortdep_qa.jsonl") << R"({"input": "doc", "qa_pairs": "[{'Q': 'q'}]"})" << "\n";
  }
  EXPECT_THROW(expand("shortdep_qa", dir), InputError);
  std::filesystem::remove_all(dir);
  try {
    expand("shortdep_qa", dir);
    FAIL() << "expected InputError for the missing file";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("bigainlco/LooGLE"), std::string::npos);
  }
}

}  // namespace
}  // namespace loom::benchmarks
