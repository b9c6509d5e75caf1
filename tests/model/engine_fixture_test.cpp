// Engine parity with Hugging Face transformers on the tiny fixtures of tools/fixtures/make_model_fixtures.py:
// last-position logits (fp32, max |delta| <= 1e-4), 32 greedy tokens, chunked prefill, batching, sampling.
#include "common/error.h"
#include "model_card/model_card.h"
#include "model_test_util.h"
#include "rank/model/inference_engine.h"
#include "rank/model/weight_store.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <map>

namespace loom::model {
namespace {

using testing::fixture_dir;
using testing::to_vector;

struct Expected {
  std::vector<int64_t> input_ids;
  at::Tensor logits;
  std::vector<int64_t> greedy;
  at::Tensor chunked_logits;
  int64_t chunk_size = 0;
};

Expected load_expected(const std::string& name) {
  SafetensorsFile file(fixture_dir(name) / "expected.safetensors");
  Expected e;
  e.input_ids = to_vector(file.load("input_ids", at::kLong, at::kCPU));
  e.logits = file.load("logits", at::kFloat, at::kCPU);
  e.greedy = to_vector(file.load("greedy", at::kLong, at::kCPU));
  if (file.find("chunked_logits") != nullptr) {
    e.chunked_logits = file.load("chunked_logits", at::kFloat, at::kCPU);
    e.chunk_size = to_vector(file.load("chunk_size", at::kLong, at::kCPU))[0];
  }
  return e;
}

std::unique_ptr<DecoderModel> load_model(const std::string& name) {
  WeightStore weights(fixture_dir(name));
  return std::make_unique<DecoderModel>(read_model_card(fixture_dir(name)), weights, at::kFloat, at::kCPU);
}

std::unique_ptr<InferenceEngine> make_engine(const std::string& name) {
  EngineOptions options;
  options.model_dir = fixture_dir(name);
  options.device = "cpu";
  options.dtype = "float32";
  options.max_context = 4096;  // llama_dynamic's max_position_embeddings is 16: dynamic NTK runs past it
  return create_engine(options, nullptr, nullptr);
}

InferenceRequest greedy_request(const std::vector<int64_t>& ids, int32_t steps) {
  InferenceRequest request;
  request.sample_key = "s";
  request.input_ids.assign(ids.begin(), ids.end());
  request.generation.max_new_tokens = steps;
  return request;
}

class FixtureParity : public ::testing::TestWithParam<std::string> {};

TEST_P(FixtureParity, LastPositionLogitsMatchTransformers) {
  c10::InferenceMode guard;
  const Expected expected = load_expected(GetParam());
  auto model = load_model(GetParam());
  at::Tensor logits = testing::prompt_logits(*model, expected.input_ids, 1 << 20);
  ASSERT_EQ(logits.sizes(), expected.logits.sizes());
  const double max_delta = (logits - expected.logits).abs().max().item<double>();
  std::printf("%s: fp32 last-position logits max |delta| %.2e\n", GetParam().c_str(), max_delta);
  EXPECT_LE(max_delta, 1e-4) << GetParam();
}

// The fixtures written with chunked=True: transformers fed the prompt in chunks through its cache.
TEST_P(FixtureParity, ChunkedPrefillMatchesTransformersChunked) {
  c10::InferenceMode guard;
  const Expected expected = load_expected(GetParam());
  if (expected.chunk_size == 0) GTEST_SKIP() << "no chunked_logits in this fixture";
  auto model = load_model(GetParam());
  at::Tensor chunked = testing::prompt_logits(*model, expected.input_ids, expected.chunk_size);
  EXPECT_LE((chunked - expected.chunked_logits).abs().max().item<double>(), 1e-4) << GetParam();
}

TEST_P(FixtureParity, GreedyContinuationMatchesTransformers) {
  const Expected expected = load_expected(GetParam());
  const ModelCard config = read_model_card(fixture_dir(GetParam()));
  auto engine = make_engine(GetParam());
  auto results = engine->run({greedy_request(expected.input_ids, 32)});
  ASSERT_EQ(results.size(), 1u);
  ASSERT_TRUE(results[0].ok) << results[0].error;
  // The fixture's continuation ignores EOS; the engine stops at the first EOS id (and drops it).
  std::vector<int32_t> want;
  for (int64_t id : expected.greedy) {
    if (std::find(config.eos_token_ids.begin(), config.eos_token_ids.end(), id) != config.eos_token_ids.end()) break;
    want.push_back(static_cast<int32_t>(id));
  }
  EXPECT_EQ(results[0].output_ids, want) << GetParam();
  EXPECT_EQ(results[0].cost.input_tokens, static_cast<int64_t>(expected.input_ids.size()));
  EXPECT_GT(results[0].cost.kv_bytes, 0);
  EXPECT_EQ(results[0].cost.output_tokens, static_cast<int64_t>(results[0].output_ids.size()));
}

INSTANTIATE_TEST_SUITE_P(Models, FixtureParity, ::testing::ValuesIn(testing::fixture_names()));

// A transformers 5.x Gemma3ForConditionalGeneration directory keeps the language model under
// model.language_model.* (gemma3_tiny has 4.x's language_model.model.*): the same weights renamed so give the same
// logits.
TEST(MultimodalCheckpoint, Gemma3LanguageModelUnder5xPrefix) {
  c10::InferenceMode guard;
  const std::filesystem::path dir = std::filesystem::temp_directory_path() / "loom_gemma3_5x_prefix";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  std::filesystem::copy_file(fixture_dir("gemma3_tiny") / "config.json", dir / "config.json");
  std::map<std::string, testing::RawTensor> renamed;
  const std::string old_prefix = "language_model.model.";
  for (auto& [name, tensor] : testing::read_raw(fixture_dir("gemma3_tiny") / "model.safetensors")) {
    ASSERT_EQ(name.rfind(old_prefix, 0), 0u) << name;
    renamed["model.language_model." + name.substr(old_prefix.size())] = tensor;
  }
  testing::write_safetensors(dir / "model.safetensors", renamed);
  const Expected expected = load_expected("gemma3_tiny");
  WeightStore weights(dir);
  DecoderModel model(read_model_card(dir), weights, at::kFloat, at::kCPU);
  at::Tensor logits = testing::prompt_logits(model, expected.input_ids, 1 << 20);
  EXPECT_LE((logits - expected.logits).abs().max().item<double>(), 1e-4);
  std::filesystem::remove_all(dir);
}

TEST(ChunkedPrefill, MatchesTransformersChunkedAndUnchunked) {
  c10::InferenceMode guard;
  const Expected expected = load_expected("llama3_tiny");
  ASSERT_GT(expected.chunk_size, 0);
  auto model = load_model("llama3_tiny");
  at::Tensor chunked = testing::prompt_logits(*model, expected.input_ids, expected.chunk_size);
  at::Tensor whole = testing::prompt_logits(*model, expected.input_ids, 1 << 20);
  EXPECT_LE((chunked - expected.chunked_logits).abs().max().item<double>(), 1e-4);
  EXPECT_LE((chunked - whole).abs().max().item<double>(), 1e-5);
  for (int64_t chunk : {1, 2, 3, 7}) {
    EXPECT_LE((testing::prompt_logits(*model, expected.input_ids, chunk) - whole).abs().max().item<double>(), 1e-5)
        << "chunk " << chunk;
  }
}

TEST(ChunkedPrefill, EngineGreedyTokensDoNotDependOnChunkSize) {
  const Expected expected = load_expected("qwen3_tiny");
  auto engine = make_engine("qwen3_tiny");
  InferenceRequest whole = greedy_request(expected.input_ids, 12);
  InferenceRequest chunked = whole;
  chunked.generation.prefill_chunk_size = 4;
  auto results = engine->run({whole, chunked});
  ASSERT_TRUE(results[0].ok && results[1].ok);
  EXPECT_EQ(results[0].output_ids, results[1].output_ids);
}

TEST(BatchedDecode, ThreeDifferentLengthPromptsEqualSingleRuns) {
  const Expected expected = load_expected("llama_linear");
  auto engine = make_engine("llama_linear");
  std::vector<InferenceRequest> batch;
  for (size_t length : {5u, 17u, 11u}) {
    std::vector<int64_t> ids(expected.input_ids.begin(), expected.input_ids.begin() + length);
    batch.push_back(greedy_request(ids, 10 + static_cast<int32_t>(length) % 7));
    batch.back().sample_key = std::to_string(length);
  }
  auto together = engine->run(batch);
  ASSERT_EQ(together.size(), 3u);
  for (size_t i = 0; i < batch.size(); ++i) {
    auto alone = engine->run({batch[i]});
    ASSERT_TRUE(together[i].ok && alone[0].ok);
    EXPECT_EQ(together[i].sample_key, batch[i].sample_key);
    EXPECT_EQ(together[i].output_ids, alone[0].output_ids) << "request " << i;
  }
}

TEST(BatchedDecode, FailedRequestDoesNotStopTheOthers) {
  const Expected expected = load_expected("mistral_tiny");
  auto engine = make_engine("mistral_tiny");
  InferenceRequest good = greedy_request(expected.input_ids, 8);
  InferenceRequest bad = good;
  bad.input_ids = {1, 2, 100000};  // out of vocabulary
  InferenceRequest unknown_method = good;
  unknown_method.method.name = "snapkv";
  auto results = engine->run({bad, good, unknown_method});
  EXPECT_FALSE(results[0].ok);
  EXPECT_NE(results[0].error.find("100000"), std::string::npos) << results[0].error;
  EXPECT_TRUE(results[1].ok);
  EXPECT_EQ(results[1].output_ids.size(), 8u);
  EXPECT_FALSE(results[2].ok);
  EXPECT_NE(results[2].error.find("snapkv"), std::string::npos) << results[2].error;
}

TEST(Sampling, SeededSamplingIsReproducibleAndSeedDependent) {
  const Expected expected = load_expected("llama_dynamic");
  auto engine = make_engine("llama_dynamic");
  InferenceRequest request = greedy_request(expected.input_ids, 16);
  request.generation.do_sample = true;
  request.generation.temperature = 1.5f;
  request.generation.top_k = 50;
  request.generation.top_p = 0.95f;
  InferenceRequest other = request;
  other.generation.seed = 7;
  auto results = engine->run({request, request, other});
  for (const auto& r : results) ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(results[0].output_ids, results[1].output_ids);
  EXPECT_NE(results[0].output_ids, results[2].output_ids);
}

TEST(Sampling, TopKOneIsGreedy) {
  const Expected expected = load_expected("qwen2_yarn");
  auto engine = make_engine("qwen2_yarn");
  InferenceRequest greedy = greedy_request(expected.input_ids, 10);
  InferenceRequest sampled = greedy;
  sampled.generation.do_sample = true;
  sampled.generation.top_k = 1;
  auto results = engine->run({greedy, sampled});
  EXPECT_EQ(results[0].output_ids, results[1].output_ids);
}

// EngineOptions::defer_kv_pool (what `loom_mpi run` uses: the pool waits for the job's longest row): no request
// before size_kv_pool(), which is called once; then the engine gives what an engine with its pool from the start
// gives.
TEST(DeferredKvPool, RequestsWaitForTheSizedPoolAndThenRunAsBefore) {
  const Expected expected = load_expected("llama3_tiny");
  EngineOptions options;
  options.model_dir = fixture_dir("llama3_tiny");
  options.device = "cpu";
  options.dtype = "float32";
  options.defer_kv_pool = true;
  auto engine = create_engine(options, nullptr, nullptr);
  const InferenceRequest request = greedy_request(expected.input_ids, 12);
  try {
    engine->run({request});
    FAIL() << "a request before size_kv_pool() ran";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("size_kv_pool"), std::string::npos) << e.what();
  }
  engine->size_kv_pool(static_cast<int64_t>(expected.input_ids.size()) + 12);
  EXPECT_THROW(engine->size_kv_pool(100), Error);
  const auto deferred = engine->run({request});
  const auto eager = make_engine("llama3_tiny")->run({request});
  ASSERT_TRUE(deferred[0].ok) << deferred[0].error;
  EXPECT_EQ(deferred[0].output_ids, eager[0].output_ids);
  EXPECT_EQ(deferred[0].cost.kv_bytes, eager[0].cost.kv_bytes);
}

}  // namespace
}  // namespace loom::model
