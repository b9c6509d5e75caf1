// Sliding-window attention (Mistral, Qwen2 use_sliding_window, Phi-3, Gemma-3): the windowed attention against a plain
// masked reference, the cache keeping only its window (bytes bounded whatever the length), chunked prefill and bf16
// against transformers (tools/fixtures/make_model_fixtures.py: mistral_sliding, qwen2_sliding, phi3_tiny; fp32
// logits and greedy tokens are in engine_fixture_test), and the methods composing with it (full cache, SnapKV,
// StreamingLLM).
#include "model_card/model_card.h"
#include "model_test_util.h"
#include "rank/accel/registry.h"
#include "rank/model/inference_engine.h"
#include "rank/model/kv_cache.h"
#include "rank/model/sliding_window_cache.h"
#include "rank/model/weight_store.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <limits>

namespace loom::model {
namespace {

using testing::fixture_dir;
using testing::to_vector;

// softmax(scale QK^T) V over keys with 0 <= pos(q) - pos(k) < window, every score materialised.
at::Tensor masked_reference(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, double scale,
                            int64_t window) {
  const int64_t group = q.size(0) / k.size(0), t_q = q.size(1), total = k.size(1);
  at::Tensor scores = at::matmul(q, k.repeat_interleave(group, 0).transpose(1, 2)) * scale;
  at::Tensor qpos = at::arange(total - t_q, total).unsqueeze(1), kpos = at::arange(total).unsqueeze(0);
  at::Tensor d = qpos - kpos;
  scores.masked_fill_(d.lt(0).logical_or(d.ge(window)).unsqueeze(0), -std::numeric_limits<float>::infinity());
  return at::matmul(at::softmax(scores, -1), v.repeat_interleave(group, 0));
}

TEST(SlidingWindowAttention, MatchesMaskedReferenceAcrossQueryBlocks) {
  at::manual_seed(3);
  for (int64_t window : {1, 7, 64, 500}) {
    at::Tensor q = at::randn({4, 150, 16}), k = at::randn({2, 170, 16}), v = at::randn({2, 170, 16});
    at::Tensor got = sliding_window_attention(q, k, v, 0.25, window);
    EXPECT_LE((got - masked_reference(q, k, v, 0.25, window)).abs().max().item<double>(), 1e-5) << window;
  }
}

TEST(SlidingWindowCache, KeepsOnlyItsWindowAndAttendsAsTheWholeHistory) {
  c10::InferenceMode guard;
  at::manual_seed(4);
  const int64_t window = 9, kv_heads = 2, dim = 8;
  auto cache = make_sliding_window_cache(kv_heads, dim, window, at::kFloat, at::kCPU);
  auto dense = make_dense_cache(kv_heads, dim, at::kFloat, at::kCPU);
  const int64_t bytes_per_token = 2 * kv_heads * dim * 4;
  int64_t length = 0;
  for (int64_t chunk : {5, 3, 12, 1, 1, 20, 1, 1, 1}) {
    at::Tensor k = at::randn({kv_heads, chunk, dim}), v = at::randn({kv_heads, chunk, dim});
    at::Tensor q = at::randn({4, chunk, dim});
    cache->append(k, v);
    dense->append(k, v);
    length += chunk;
    auto [all_keys, all_values] = dense->dense();
    at::Tensor want = masked_reference(q, all_keys, all_values, 0.3, window);
    EXPECT_LE((cache->attend(q, 0.3) - want).abs().max().item<double>(), 1e-5) << "after " << length;
    EXPECT_EQ(cache->logical_length(), length);
    EXPECT_LE(cache->stored_tokens(0), window - 1 + chunk);
    EXPECT_LE(cache->bytes(), 2 * (window - 1 + chunk) * bytes_per_token);
    EXPECT_FALSE(cache->head_rows(0).first.defined());  // decodes through attend(), never the windowless pages
  }
  // After the 20-token chunk and three decode steps the buffer is back to the window.
  EXPECT_EQ(cache->bytes(), window * bytes_per_token);
  EXPECT_EQ(dense->logical_length(), length);
  EXPECT_GT(dense->bytes(), 4 * cache->bytes());
}

TEST(SlidingWindowModel, ModelCardMarksTheSlidingLayers) {
  const ModelCard mistral = read_model_card(fixture_dir("mistral_sliding"));
  EXPECT_EQ(mistral.sliding_window, 6);
  EXPECT_EQ(layer_window(mistral, 0), 6);
  EXPECT_EQ(layer_window(mistral, 1), 6);
  const ModelCard qwen2 = read_model_card(fixture_dir("qwen2_sliding"));  // 4.x layout: max_window_layers 1
  EXPECT_EQ(layer_window(qwen2, 0), 0);
  EXPECT_EQ(layer_window(qwen2, 1), 5);
  EXPECT_EQ(read_model_card(fixture_dir("mistral_tiny")).sliding_window, 0);
  const ModelCard phi3 = read_model_card(fixture_dir("phi3_tiny"));  // fused qkv_proj / gate_up_proj
  EXPECT_TRUE(phi3.fused_projections);
  EXPECT_EQ(layer_window(phi3, 1), 7);
  const ModelCard gemma3 = read_model_card(fixture_dir("gemma3_text_tiny"));  // layer_types: sliding, full, sliding
  EXPECT_EQ(layer_window(gemma3, 0), 5);
  EXPECT_EQ(layer_window(gemma3, 1), 0);
  EXPECT_EQ(layer_window(gemma3, 2), 5);
}

std::unique_ptr<DecoderModel> load_model(const std::string& name, at::ScalarType dtype) {
  WeightStore weights(fixture_dir(name));
  return std::make_unique<DecoderModel>(read_model_card(fixture_dir(name)), weights, dtype, at::kCPU);
}

TEST(SlidingWindowModel, ChunkedPrefillMatchesTransformersChunked) {
  c10::InferenceMode guard;
  SafetensorsFile file(fixture_dir("mistral_sliding") / "expected.safetensors");
  const std::vector<int64_t> ids = to_vector(file.load("input_ids", at::kLong, at::kCPU));
  const at::Tensor expected = file.load("chunked_logits", at::kFloat, at::kCPU);
  const int64_t chunk = to_vector(file.load("chunk_size", at::kLong, at::kCPU))[0];
  auto model = load_model("mistral_sliding", at::kFloat);
  at::Tensor whole = testing::prompt_logits(*model, ids, 1 << 20);
  EXPECT_LE((testing::prompt_logits(*model, ids, chunk) - expected).abs().max().item<double>(), 1e-4);
  for (int64_t c : {1, 2, 3, 7}) {
    EXPECT_LE((testing::prompt_logits(*model, ids, c) - whole).abs().max().item<double>(), 1e-5) << "chunk " << c;
  }
}

// bf16 both sides (transformers' eager bf16 against ours): the logits agree within a tolerance and the top token
// is the same.
TEST(SlidingWindowModel, Bf16LogitsWithinToleranceOfTransformersBf16) {
  c10::InferenceMode guard;
  for (const std::string name : {"mistral_sliding", "qwen2_sliding", "phi3_tiny", "gemma3_text_tiny"}) {
    SafetensorsFile file(fixture_dir(name) / "expected.safetensors");
    const std::vector<int64_t> ids = to_vector(file.load("input_ids", at::kLong, at::kCPU));
    const at::Tensor expected = file.load("logits_bf16", at::kFloat, at::kCPU);
    auto model = load_model(name, at::kBFloat16);
    at::Tensor logits = testing::prompt_logits(*model, ids, 1 << 20);
    const double scale = expected.abs().max().item<double>();
    const double delta = (logits - expected).abs().max().item<double>();
    std::printf("%s bf16: max |delta| %.4f, max |logit| %.3f\n", name.c_str(), delta, scale);
    EXPECT_LE(delta, 0.05 * scale) << name;
    EXPECT_EQ(logits.argmax().item<int64_t>(), expected.argmax().item<int64_t>()) << name;
  }
}

InferenceRequest request(const std::vector<int32_t>& ids, const std::string& method, const nlohmann::json& params) {
  InferenceRequest r;
  r.input_ids = ids;
  r.method.name = method;
  r.method.params_json = params.dump();
  r.method.label = method + params.dump();
  r.sample_key = r.method.label;
  r.generation.max_new_tokens = 10;
  r.generation.prefill_chunk_size = 16;
  r.generation.eos_token_ids = {};
  return r;
}

std::unique_ptr<InferenceEngine> engine(const std::string& name) {
  EngineOptions options;
  options.model_dir = fixture_dir(name);
  options.device = "cpu";
  options.dtype = "float32";
  return create_engine(options, nullptr, &accel::resolve_policy);
}

std::vector<int32_t> prompt(int64_t length) {
  std::vector<int32_t> ids;
  for (int64_t i = 0; i < length; ++i) ids.push_back(static_cast<int32_t>(3 + (i * 37) % 200));
  return ids;
}

// Every layer slides: the cache after a 200-token prompt (chunks of 16) holds window - 1 + 16 tokens per layer.
TEST(SlidingWindowMethods, FullCacheHoldsOnlyTheWindows) {
  auto e = engine("mistral_sliding");
  const ModelCard card = read_model_card(fixture_dir("mistral_sliding"));
  auto results = e->run({request(prompt(200), "full", nlohmann::json::object())});
  ASSERT_TRUE(results[0].ok) << results[0].error;
  EXPECT_FALSE(results[0].output_ids.empty());
  const int64_t token_bytes = 2 * card.num_kv_heads * card.head_dim * 4;
  EXPECT_EQ(results[0].cost.kv_bytes, card.num_layers * (card.sliding_window - 1 + 16) * token_bytes);
  EXPECT_LT(results[0].cost.kv_bytes, card.num_layers * 200 * token_bytes / 8);
}

// Layer 0 full, layer 1 sliding: an eviction method compresses the full layer, the sliding one keeps its window;
// with every layer sliding a method leaves the output as the full cache's.
TEST(SlidingWindowMethods, EvictionComposesWithSlidingLayers) {
  const std::vector<int32_t> ids = prompt(200);
  auto mixed = engine("qwen2_sliding");
  auto results = mixed->run({request(ids, "full", nlohmann::json::object()),
                             request(ids, "snapkv", {{"compression_ratio", 0.5}}),
                             request(ids, "streaming_llm", {{"compression_ratio", 0.75}})});
  for (const auto& r : results) {
    ASSERT_TRUE(r.ok) << r.sample_key << ": " << r.error;
    EXPECT_FALSE(r.output_ids.empty()) << r.sample_key;
  }
  const ModelCard card = read_model_card(fixture_dir("qwen2_sliding"));
  const int64_t token_bytes = 2 * card.num_kv_heads * card.head_dim * 4;
  const int64_t window_bytes = (card.sliding_window - 1 + 16) * token_bytes;
  EXPECT_GE(results[0].cost.kv_bytes, 200 * token_bytes + window_bytes);  // layer 0 holds the prompt
  EXPECT_LT(results[1].cost.kv_bytes, results[0].cost.kv_bytes * 3 / 4);
  EXPECT_LT(results[2].cost.kv_bytes, results[1].cost.kv_bytes);

  auto sliding = engine("mistral_sliding");
  auto all_sliding = sliding->run({request(ids, "full", nlohmann::json::object()),
                                   request(ids, "snapkv", {{"compression_ratio", 0.5}})});
  ASSERT_TRUE(all_sliding[0].ok && all_sliding[1].ok) << all_sliding[1].error;
  EXPECT_EQ(all_sliding[0].output_ids, all_sliding[1].output_ids);
  EXPECT_EQ(all_sliding[0].cost.kv_bytes, all_sliding[1].cost.kv_bytes);
}

}  // namespace
}  // namespace loom::model
