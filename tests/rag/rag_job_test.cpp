// The job key `rag:` (defaults, errors naming the key and line) and its effect on a sample: a LongBench record's
// context replaced by the chunks BM25 retrieves, the same as the Python reference (tests/fixtures/rag/
// e2e_expected.json from tools/fixtures/make_rag_fixtures.py), with the chunk ids in the sample's metadata.
#include "benchmarks/registry.h"
#include "common/error.h"
#include "scheduler/job_parser.h"
#include "scheduler/retrieval_step.h"
#include "support/job_text_test.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <stdlib.h>

namespace fs = std::filesystem;
using namespace loom::scheduler;

namespace {

const fs::path kRepo = LOOM_SOURCE_DIR;

class RagJobKeys : public loom::test_support::JobTextTest {
 protected:
  RagJobKeys() : JobTextTest(kRepo / "tests/rag/job.yaml") {}
  std::string job(const std::string& rag) const {
    return "model:\n  path: " + (kRepo / "models/tiny-loom").string() + "\n" +
           "benchmarks:\n  - name: LongBench\n    tasks: [hotpotqa]\n" + rag;
  }
};

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST_F(RagJobKeys, NoSectionNoRetrieval) { EXPECT_FALSE(parse(job("")).rag.enabled()); }

TEST_F(RagJobKeys, DefaultsAreLoomScopes) {
  const JobConfig config = parse(job("rag:\n  method: bm25\n"));
  EXPECT_EQ(config.rag.method, "bm25");
  EXPECT_EQ(config.rag.chunk_size, 512);
  EXPECT_EQ(config.rag.overlap, 0);
  EXPECT_EQ(config.rag.num_chunks, 15);
  EXPECT_EQ(config.rag.order, "score");
}

TEST_F(RagJobKeys, ReadsEveryBm25Key) {
  const JobConfig config = parse(job("rag:\n  method: bm25\n  chunk_size: 64\n  overlap: 8\n  num_chunks: 3\n"
                                     "  order: document\n"));
  EXPECT_EQ(config.rag.chunk_size, 64);
  EXPECT_EQ(config.rag.overlap, 8);
  EXPECT_EQ(config.rag.num_chunks, 3);
  EXPECT_EQ(config.rag.order, "document");
}

TEST_F(RagJobKeys, ErrorsNameTheKey) {
  loom::InputError e = parse_error(job("rag:\n  chunk_size: 64\n"));
  EXPECT_EQ(e.key(), "rag.method");
  EXPECT_TRUE(contains(e.what(), "missing required key")) << e.what();
  e = parse_error(job("rag:\n  method: bm26\n"));
  EXPECT_EQ(e.key(), "rag.method");
  EXPECT_TRUE(contains(e.what(), "bm25")) << e.what();
  e = parse_error(job("rag:\n  method: bm25\n  chunk_size: 0\n"));
  EXPECT_EQ(e.key(), "rag.chunk_size");
  e = parse_error(job("rag:\n  method: bm25\n  chunk_size: 16\n  overlap: 16\n"));
  EXPECT_EQ(e.key(), "rag.overlap");
  EXPECT_TRUE(contains(e.what(), "below rag.chunk_size (16)")) << e.what();
  EXPECT_EQ(e.line(), 9);
  e = parse_error(job("rag:\n  method: bm25\n  num_chunks: -1\n"));
  EXPECT_EQ(e.key(), "rag.num_chunks");
  e = parse_error(job("rag:\n  method: bm25\n  order: random\n"));
  EXPECT_EQ(e.key(), "rag.order");
  e = parse_error(job("rag:\n  method: bm25\n  base_url: http://127.0.0.1:1/v1\n"));
  EXPECT_EQ(e.key(), "rag.base_url");
  EXPECT_TRUE(contains(e.what(), "only with rag.method: embedding")) << e.what();
  e = parse_error(job("rag:\n  method: bm25\n  top_k: 3\n"));
  EXPECT_EQ(e.key(), "rag.top_k");
}

TEST_F(RagJobKeys, EmbeddingNeedsAnEndpointAndASetKeyVariable) {
  const JobConfig config = parse(job("rag:\n  method: embedding\n  base_url: http://127.0.0.1:8000/v1\n"
                                     "  model: bge\n  timeout_s: 5\n  max_retries: 0\n  batch_size: 8\n"));
  EXPECT_EQ(config.rag.base_url, "http://127.0.0.1:8000/v1");
  EXPECT_EQ(config.rag.model, "bge");
  EXPECT_EQ(config.rag.timeout_s, 5);
  EXPECT_EQ(config.rag.max_retries, 0);
  EXPECT_EQ(config.rag.batch_size, 8);
  loom::InputError e = parse_error(job("rag:\n  method: embedding\n"));
  EXPECT_EQ(e.key(), "rag.base_url");
  EXPECT_TRUE(contains(e.what(), "http://")) << e.what();
  e = parse_error(job("rag:\n  method: embedding\n  base_url: 127.0.0.1:8000\n"));
  EXPECT_EQ(e.key(), "rag.base_url");
  ::unsetenv("LOOM_RAG_UNSET_KEY");
  e = parse_error(job("rag:\n  method: embedding\n  base_url: http://h/v1\n  api_key_env: LOOM_RAG_UNSET_KEY\n"));
  EXPECT_EQ(e.key(), "rag.api_key_env");
  EXPECT_TRUE(contains(e.what(), "LOOM_RAG_UNSET_KEY is not set")) << e.what();
}

TEST(RagSample, LongBenchContextBecomesTheRetrievedChunks) {
  std::ifstream in(kRepo / "tests/fixtures/rag/e2e_expected.json");
  ASSERT_TRUE(in);
  const nlohmann::json expected = nlohmann::json::parse(in);
  const loom::benchmarks::BenchmarkRegistry registry(kRepo / "configs/benchmarks");
  const loom::benchmarks::Benchmark& longbench = registry.get("LongBench");
  loom::benchmarks::BenchmarkSpec spec;
  spec.name = "LongBench";
  spec.tasks = {"hotpotqa"};
  spec.data_dir = kRepo / "tests/fixtures/benchmarks/rag";
  spec.retrieval = true;
  std::vector<loom::benchmarks::Sample> samples = longbench.expand(spec, loom::benchmarks::PromptContext{});
  ASSERT_EQ(samples.size(), expected.size());
  loom::rag::RagConfig config;
  config.method = "bm25";
  config.chunk_size = 16;
  config.num_chunks = 2;
  loom::rag::Retriever retriever(config);
  for (loom::benchmarks::Sample& sample : samples) {
    ASSERT_TRUE(sample.retrieval.present);
    const std::string question = sample.retrieval.question;
    const std::string before = sample.retrieval.prompt_before;
    const std::string after = sample.retrieval.prompt_after;
    EXPECT_TRUE(contains(after, "Question: " + question)) << after;
    // query_aware: false splits the prompt at question_begin: after retrieval it still starts the question.
    ASSERT_GE(sample.question_begin, 0) << sample.id;
    const std::string question_part = sample.prompt.substr(static_cast<size_t>(sample.question_begin));
    ASSERT_EQ(apply_retrieval(retriever, sample), "");
    ASSERT_GE(sample.question_begin, 0) << sample.id;
    EXPECT_EQ(sample.prompt.substr(static_cast<size_t>(sample.question_begin)), question_part) << sample.id;
    const nlohmann::json& want = expected.at(sample.id);
    EXPECT_EQ(sample.prompt, before + want["context"].get<std::string>() + after) << sample.id;
    EXPECT_EQ(sample.metadata["rag"]["chunk_ids"], want["chunk_ids"]) << sample.id;
    EXPECT_EQ(sample.metadata["rag"]["total_chunks"], want["total_chunks"]) << sample.id;
    EXPECT_EQ(sample.metadata["rag"]["method"], "bm25");
  }
  // Without `rag:` the prompt keeps its whole context and nothing is recorded for retrieval.
  spec.retrieval = false;
  const auto plain = longbench.expand(spec, loom::benchmarks::PromptContext{});
  EXPECT_FALSE(plain[0].retrieval.present);
  EXPECT_TRUE(plain[0].retrieval.context.empty());
  EXPECT_TRUE(contains(plain[0].prompt, "The special magic number for Paris is 1000."));
}

}  // namespace
