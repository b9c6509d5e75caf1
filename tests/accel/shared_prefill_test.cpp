// A batch that holds one prompt under several methods (a sweep) prefills it once and gives every method exactly
// what it gets when it runs alone: same generated ids, same KV bytes, same text. Sparse-prefill methods (which
// replace prefill attention) and other prompts in the batch keep their own prefill. "The same prompt" is the same
// InferenceRequest::prompt_id, never a comparison of the ids.
#include "rank/accel/registry.h"
#include "rank/model/inference_engine.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <random>
#include <string>
#include <vector>

namespace loom::accel {
namespace {

std::unique_ptr<model::InferenceEngine> fixture_engine(int prefill_cache_copies = 2) {
  model::EngineOptions options;
  options.prefill_cache_copies = prefill_cache_copies;
  options.model_dir = std::filesystem::path(LOOM_SOURCE_DIR) / "tests" / "fixtures" / "models" / "llama3_tiny";
  options.device = "cpu";
  options.dtype = "float32";
  options.max_batch_size = 16;
  return model::create_engine(options, nullptr, &resolve_policy);
}

std::vector<int32_t> random_prompt(int64_t length, uint32_t seed) {
  std::mt19937 random(seed);
  std::uniform_int_distribution<int32_t> id(3, 500);
  std::vector<int32_t> ids(static_cast<std::size_t>(length));
  for (auto& x : ids) x = id(random);
  return ids;
}

// prompt_id: the caller's identity of ids (the worker derives it from rank 0's PromptId); equal ids share a prefill
// only under one prompt_id.
model::InferenceRequest request(const std::vector<int32_t>& ids, int64_t prompt_id, const std::string& method,
                                nlohmann::json params) {
  model::InferenceRequest r;
  r.input_ids = ids;
  r.prompt_id = prompt_id;
  r.method.name = method;
  r.method.params_json = params.dump();
  r.method.label = method + params.dump();
  r.sample_key = r.method.label;
  r.generation.max_new_tokens = 12;
  r.generation.prefill_chunk_size = 96;  // several chunks: observations must span them
  r.generation.eos_token_ids = {};
  return r;
}

TEST(SharedPrefill, SweepInOneBatchEqualsEachMethodAlone) {
  auto engine = fixture_engine();
  const std::vector<int32_t> prompt = random_prompt(300, 7);
  const std::vector<int32_t> other = random_prompt(250, 8);
  std::vector<model::InferenceRequest> batch = {
      request(prompt, 0, "full", nlohmann::json::object()),
      request(prompt, 0, "snapkv", {{"compression_ratio", 0.5}}),
      request(prompt, 0, "streaming_llm", {{"compression_ratio", 0.75}}),
      request(prompt, 0, "adakv", {{"compression_ratio", 0.5}}),
      request(prompt, 0, "expected_attention", {{"compression_ratio", 0.5}}),   // pre-RoPE query statistics
      request(prompt, 0, "observed_attention", {{"compression_ratio", 0.5}}),   // every prompt query
      request(prompt, 0, "tova", {{"compression_ratio", 0.5}}),
      request(prompt, 0, "cakekv", {{"max_capacity_prompt", 128}}),             // trims earlier layers in place
      request(prompt, 0, "kivi", {{"k_bits", 2}, {"v_bits", 2}, {"residual_length", 32}, {"group_size", 8}}),
      request(prompt, 0, "think", {{"key_channel_compression_ratio", 0.5}}),
      request(prompt, 0, "xattention", {{"block_size", 32}, {"stride", 8}, {"threshold", 0.5}}),  // own prefill
      request(other, 1, "snapkv", {{"compression_ratio", 0.5}}),                // another prompt
      request(prompt, 0, "pyramidkv", {{"compression_ratio", 0.5}}),
  };
  const std::vector<model::InferenceResult> together = engine->run(batch);
  ASSERT_EQ(together.size(), batch.size());
  for (std::size_t i = 0; i < batch.size(); ++i) {
    const model::InferenceResult alone = engine->run({batch[i]}).at(0);
    const model::InferenceResult& shared = together[i];
    SCOPED_TRACE(batch[i].method.label);
    ASSERT_TRUE(alone.ok) << alone.error;
    ASSERT_TRUE(shared.ok) << shared.error;
    EXPECT_EQ(shared.output_ids, alone.output_ids);
    EXPECT_EQ(shared.cost.kv_bytes, alone.cost.kv_bytes);
    EXPECT_EQ(shared.text, alone.text);
    EXPECT_EQ(shared.cost.input_tokens, alone.cost.input_tokens);
    EXPECT_EQ(static_cast<int64_t>(shared.output_ids.size()), 12);
    EXPECT_EQ(alone.cost.prefill_shared_by, 1);
  }
  // One prefill for the 11 methods of `prompt` with a dense prefill; xattention and the other prompt alone.
  for (std::size_t i = 0; i < batch.size(); ++i) {
    const bool own = batch[i].method.name == "xattention" || batch[i].input_ids != prompt;
    EXPECT_EQ(together[i].cost.prefill_shared_by, own ? 1 : 11) << batch[i].method.label;
  }
  // Only the sparse-prefill method skips attention blocks; the result says how many it computed.
  for (std::size_t i = 0; i < batch.size(); ++i) {
    if (batch[i].method.name == "xattention") {
      EXPECT_GT(together[i].cost.prefill_block_density, 0.3) << batch[i].method.label;
      EXPECT_LT(together[i].cost.prefill_block_density, 1.0) << batch[i].method.label;
    } else {
      EXPECT_EQ(together[i].cost.prefill_block_density, 1.0) << batch[i].method.label;
    }
  }
  // The compressed caches are smaller than the full one: the copies were compressed, not the shared original.
  EXPECT_LT(together[1].cost.kv_bytes, together[0].cost.kv_bytes);
  EXPECT_LT(together[8].cost.kv_bytes, together[0].cost.kv_bytes);
}

TEST(SharedPrefill, ABadRequestFailsAloneAndTheOthersStillShare) {
  auto engine = fixture_engine();
  const std::vector<int32_t> prompt = random_prompt(200, 9);
  std::vector<model::InferenceRequest> batch = {
      request(prompt, 0, "full", nlohmann::json::object()),
      request(prompt, 0, "snapkv", {{"no_such_parameter", 1}}),
      request(prompt, 0, "snapkv", {{"compression_ratio", 0.5}}),
  };
  const auto results = engine->run(batch);
  EXPECT_TRUE(results[0].ok);
  EXPECT_FALSE(results[1].ok);
  EXPECT_NE(results[1].error.find("no_such_parameter"), std::string::npos) << results[1].error;
  EXPECT_TRUE(results[2].ok);
  EXPECT_EQ(results[0].cost.prefill_shared_by, 2);
  EXPECT_EQ(results[2].cost.prefill_shared_by, 2);
  EXPECT_EQ(results[2].output_ids, engine->run({batch[2]}).at(0).output_ids);
}

TEST(SharedPrefill, ThePromptIdDecidesWhoShares) {
  // Batch mates are grouped by prompt_id, not by comparing their ids: the same ids without an identity (-1) or under
  // another prompt_id get their own prefill.
  auto engine = fixture_engine();
  const std::vector<int32_t> prompt = random_prompt(150, 10);
  std::vector<model::InferenceRequest> batch = {
      request(prompt, 4, "full", nlohmann::json::object()),
      request(prompt, 4, "snapkv", {{"compression_ratio", 0.5}}),
      request(prompt, 5, "snapkv", {{"compression_ratio", 0.5}}),
      request(prompt, -1, "full", nlohmann::json::object()),
      request(prompt, -1, "streaming_llm", {{"compression_ratio", 0.5}}),
  };
  const auto results = engine->run(batch);
  const std::vector<int32_t> shared_by = {2, 2, 1, 1, 1};
  for (std::size_t i = 0; i < batch.size(); ++i) {
    ASSERT_TRUE(results[i].ok) << results[i].error;
    EXPECT_EQ(results[i].cost.prefill_shared_by, shared_by[i]) << i;
  }
  EXPECT_EQ(results[3].output_ids, results[0].output_ids);  // whoever shares, the same output
  EXPECT_EQ(results[2].output_ids, results[1].output_ids);
}

TEST(SharedPrefill, AnEngineWithOneCacheCopyPrefillsEachRequestItself) {
  // prefill_cache_copies 1 (a job of the full cache alone: its workspace holds one dense copy, the rest goes to the
  // pool): sharing would copy the cache, so every request gets its own prefill, with the same outputs.
  auto shared_engine = fixture_engine(2);
  auto engine = fixture_engine(1);
  const std::vector<int32_t> prompt = random_prompt(180, 11);
  std::vector<model::InferenceRequest> batch = {
      request(prompt, 3, "full", nlohmann::json::object()),
      request(prompt, 3, "full", nlohmann::json::object()),
  };
  batch[1].sample_key = "full, the second row";  // e.g. a sample listed twice
  const auto results = engine->run(batch);
  const auto shared = shared_engine->run(batch);
  for (std::size_t i = 0; i < batch.size(); ++i) {
    ASSERT_TRUE(results[i].ok) << results[i].error;
    ASSERT_TRUE(shared[i].ok) << shared[i].error;
    EXPECT_EQ(results[i].cost.prefill_shared_by, 1) << i;
    EXPECT_EQ(shared[i].cost.prefill_shared_by, 2) << i;
    EXPECT_EQ(results[i].output_ids, shared[i].output_ids) << i;
  }
}

}  // namespace
}  // namespace loom::accel
