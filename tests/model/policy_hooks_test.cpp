// The engine calls the AttentionPolicy hooks exactly as attention_policy.h documents: begin_sequence once,
// make_cache per layer, prefill_attention per chunk and layer when replaces_prefill_attention(), finish_prefill per
// layer with the last observation_window() post-RoPE queries and the pre-RoPE query moments; the cache it returns
// is used for decoding, and kv_bytes counts the caches after finish_prefill.
#include "common/error.h"
#include "model_test_util.h"
#include "rank/model/inference_engine.h"
#include "rank/model/safetensors_file.h"

#include <gtest/gtest.h>

namespace loom::model {
namespace {

struct HookLog {
  int begin_calls = 0;
  int64_t prompt_length = 0;
  int64_t reserve_tokens = 0;
  std::vector<int64_t> make_cache_layers;
  std::vector<std::pair<int64_t, int64_t>> prefill_chunks;  // (layer, t_q)
  std::vector<PrefillSummary> summaries;
};

class RecordingPolicy : public AttentionPolicy {
 public:
  RecordingPolicy(PolicyContext context, HookLog* log, int64_t window, bool dense_prefill)
      : AttentionPolicy(std::move(context)), log_(log), window_(window), dense_prefill_(dense_prefill) {}
  void begin_sequence(int64_t prompt_length) override {
    log_->begin_calls++;
    log_->prompt_length = prompt_length;
    log_->reserve_tokens = context().reserve_tokens;
  }
  std::unique_ptr<LayerKVCache> make_cache(int64_t layer) override {
    log_->make_cache_layers.push_back(layer);
    return AttentionPolicy::make_cache(layer);
  }
  at::Tensor prefill_attention(const PrefillAttentionInput& input) override {
    log_->prefill_chunks.emplace_back(input.layer, input.queries.size(1));
    EXPECT_EQ(input.keys.size(1), input.values.size(1));
    if (!dense_prefill_) return at::Tensor();
    // A stand-in "sparse" attention that is in fact dense: the engine must use what we return.
    at::Tensor k = input.keys.repeat_interleave(input.queries.size(0) / input.keys.size(0), 0);
    at::Tensor v = input.values.repeat_interleave(input.queries.size(0) / input.keys.size(0), 0);
    at::Tensor scores = at::matmul(input.queries, k.transpose(1, 2)) * input.scale;
    const int64_t t_q = input.queries.size(1), total = k.size(1);
    at::Tensor mask = at::ones({t_q, total}, at::kBool).triu(total - t_q + 1);
    return at::matmul(scores.masked_fill(mask, -INFINITY).softmax(-1), v);
  }
  std::unique_ptr<LayerKVCache> finish_prefill(std::unique_ptr<LayerKVCache> cache,
                                               const PrefillSummary& summary) override {
    log_->summaries.push_back(summary);
    auto [keys, values] = cache->dense();
    auto copy = make_dense_cache(keys.size(0), keys.size(2), keys.scalar_type(), keys.device());
    copy->append(keys, values);  // a new, tight cache object: the engine must decode with it
    return copy;
  }
  int64_t observation_window() const override { return window_; }
  bool wants_query_statistics() const override { return true; }
  bool replaces_prefill_attention() const override { return true; }

 private:
  HookLog* log_;
  int64_t window_;
  bool dense_prefill_;
};

class RecordingFactory : public AttentionPolicyFactory {
 public:
  RecordingFactory(HookLog* log, int64_t window, bool dense_prefill)
      : log_(log), window_(window), dense_prefill_(dense_prefill) {}
  std::unique_ptr<AttentionPolicy> create(const PolicyContext& context) const override {
    return std::make_unique<RecordingPolicy>(context, log_, window_, dense_prefill_);
  }
  std::string name() const override { return "recording"; }

 private:
  HookLog* log_;
  int64_t window_;
  bool dense_prefill_;
};

std::vector<int32_t> fixture_prompt(const std::string& name) {
  SafetensorsFile file(testing::fixture_dir(name) / "expected.safetensors");
  auto ids = testing::to_vector(file.load("input_ids", at::kLong, at::kCPU));
  return std::vector<int32_t>(ids.begin(), ids.end());
}

std::unique_ptr<InferenceEngine> engine_with(const std::string& name, PolicyResolver resolver) {
  EngineOptions options;
  options.model_dir = testing::fixture_dir(name);
  options.device = "cpu";
  options.dtype = "float32";
  return create_engine(options, nullptr, std::move(resolver));
}

TEST(PolicyHooks, CalledAsDocumentedAndOutputsUnchangedByDenseStandIns) {
  const std::vector<int32_t> prompt = fixture_prompt("qwen3_tiny");  // 18 tokens, 2 layers, 4 heads, head_dim 32
  HookLog log;
  auto factory = std::make_shared<RecordingFactory>(&log, /*window=*/4, /*dense_prefill=*/true);
  auto engine = engine_with("qwen3_tiny", [factory](const MethodSpec&) { return factory; });
  InferenceRequest request;
  request.input_ids = prompt;
  request.generation.max_new_tokens = 6;
  request.generation.prefill_chunk_size = 5;  // chunks of 5, 5, 5, 3
  request.method.name = "recording";
  auto with_policy = engine->run({request}).at(0);
  ASSERT_TRUE(with_policy.ok) << with_policy.error;

  EXPECT_EQ(log.begin_calls, 1);
  EXPECT_EQ(log.prompt_length, 18);
  EXPECT_EQ(log.reserve_tokens, 18 + 6);
  EXPECT_EQ(log.make_cache_layers, (std::vector<int64_t>{0, 1}));
  std::vector<std::pair<int64_t, int64_t>> chunks;
  for (int64_t t : {5, 5, 5, 3}) chunks.insert(chunks.end(), {{0, t}, {1, t}});
  EXPECT_EQ(log.prefill_chunks, chunks);
  ASSERT_EQ(log.summaries.size(), 2u);
  for (const PrefillSummary& s : log.summaries) {
    EXPECT_EQ(s.prompt_length, 18);
    EXPECT_EQ(s.window_queries.sizes(), (at::IntArrayRef{4, 4, 32}));
    EXPECT_EQ(s.query_mean.sizes(), (at::IntArrayRef{4, 32}));
    EXPECT_EQ(s.query_covariance.sizes(), (at::IntArrayRef{4, 32, 32}));
    EXPECT_EQ(s.o_proj_weight.sizes(), (at::IntArrayRef{64, 128}));
    // Covariance is symmetric positive semi-definite.
    EXPECT_TRUE(at::allclose(s.query_covariance, s.query_covariance.transpose(1, 2), 1e-4, 1e-5));
  }
  // kv_bytes: the tight caches returned by finish_prefill (2 layers x K,V x 2 kv heads x 18 tokens x 32 x 4 bytes).
  EXPECT_EQ(with_policy.cost.kv_bytes, 2 * 2 * 2 * 18 * 32 * 4);

  InferenceRequest full = request;
  full.method.name = "full";
  auto plain = engine_with("qwen3_tiny", nullptr)->run({full}).at(0);
  ASSERT_TRUE(plain.ok) << plain.error;
  EXPECT_EQ(with_policy.output_ids, plain.output_ids);
}

TEST(PolicyHooks, UndefinedPrefillAttentionFallsBackToTheCache) {
  HookLog log;
  auto factory = std::make_shared<RecordingFactory>(&log, /*window=*/100, /*dense_prefill=*/false);
  auto engine = engine_with("llama3_tiny", [factory](const MethodSpec&) { return factory; });
  InferenceRequest request;
  request.input_ids = fixture_prompt("llama3_tiny");
  request.generation.max_new_tokens = 4;
  auto result = engine->run({request}).at(0);
  ASSERT_TRUE(result.ok) << result.error;
  ASSERT_EQ(log.summaries.size(), 2u);
  // The window is larger than the prompt: all 21 queries are kept.
  EXPECT_EQ(log.summaries[0].window_queries.size(1), 21);
}

TEST(PolicyHooks, ResolverErrorFailsOnlyThatRequest) {
  auto engine = engine_with("llama3_tiny", [](const MethodSpec& spec) -> std::shared_ptr<const AttentionPolicyFactory> {
    if (spec.name == "broken") throw InputError("configs/acceleration/broken.yaml", 3, "budget", "expected > 0");
    return nullptr;
  });
  InferenceRequest good;
  good.input_ids = fixture_prompt("llama3_tiny");
  good.generation.max_new_tokens = 3;
  InferenceRequest bad = good;
  bad.method.name = "broken";
  auto results = engine->run({bad, good});
  EXPECT_FALSE(results[0].ok);
  EXPECT_NE(results[0].error.find("budget"), std::string::npos) << results[0].error;
  EXPECT_TRUE(results[1].ok);
}

}  // namespace
}  // namespace loom::model
