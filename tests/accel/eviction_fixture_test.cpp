// Kept positions of every eviction / budget / merge method equal the reference (kvpress presses or our
// re-statement of the official code) computed by tools/fixtures/make_accel_fixtures.py on the same inputs.
#include "fixture_inputs.h"

#include "rank/accel/channel_pruned_kv_cache.h"
#include "rank/accel/varlen_kv_cache.h"

#include <c10/core/InferenceMode.h>
#include <gtest/gtest.h>

namespace loom::accel::testing {
namespace {

struct RunResult {
  std::unique_ptr<model::LayerKVCache> cache;
  int64_t dense_bytes = 0;
};

RunResult run_layer(model::AttentionPolicy& policy, const nlohmann::json& c, const Inputs& in, int64_t layer) {
  const int64_t total = in.keys.size(1);
  model::PrefillSummary summary;
  summary.layer = layer;
  summary.prompt_length = total;
  const int64_t w = std::min(policy.observation_window(), total);
  if (w > 0) summary.window_queries = in.queries.narrow(1, total - w, w);
  if (policy.wants_query_statistics()) {
    const int64_t heads = in.queries.size(0);
    const int64_t dim = in.queries.size(2);
    summary.query_mean = at::tensor(c["query_mean"].get<std::vector<float>>()).reshape({heads, dim});
    summary.query_covariance = at::tensor(c["query_covariance"].get<std::vector<float>>()).reshape({heads, dim, dim});
  }
  if (c.contains("o_proj_hidden")) {  // criticalkv: the o_proj weight the fixture script built
    const int64_t heads = in.queries.size(0);
    const int64_t dim = in.queries.size(2);
    summary.o_proj_weight = random_tensor(c["seed"].get<uint64_t>() * 3 + 4,
                                          {c["o_proj_hidden"].get<int64_t>(), heads * dim}, 0.5f);
  }
  RunResult r;
  auto dense = dense_cache(in.keys, in.values);
  r.dense_bytes = dense->bytes();
  r.cache = policy.finish_prefill(std::move(dense), summary);
  return r;
}

TEST(AccelEvictionFixtures, KeptPositionsEqualReference) {
  c10::InferenceMode guard;
  const nlohmann::json fixture = load_fixture("eviction.json");
  ASSERT_GE(fixture["cases"].size(), 40u);
  for (const auto& c : fixture["cases"]) {
    const std::string name = c["name"];
    SCOPED_TRACE(name);
    const auto shape = c["shape"].get<std::vector<int64_t>>();
    const int64_t heads = shape[0], kv_heads = shape[1], total = shape[2], dim = shape[3];
    const std::string method = c["method"];
    MethodSpec spec;
    spec.name = method;
    spec.params_json = c["params"].dump();
    auto factory = resolve_policy(spec);
    model::PolicyContext context = make_context(heads, kv_heads, dim, c["layers"].get<int64_t>());
    context.reserve_tokens = total + 4;  // prompt + 4 decode steps: the caches keep 4 spare rows per head
    auto policy = factory->create(context);
    policy->begin_sequence(total);

    if (method == "cakekv") {
      std::vector<std::unique_ptr<model::LayerKVCache>> caches;
      int64_t dense_bytes = 0;
      for (int64_t layer = 0; layer < c["layers"].get<int64_t>(); ++layer) {
        Inputs in = make_inputs(c["seed"].get<uint64_t>() + layer, heads, kv_heads, total, dim);
        RunResult r = run_layer(*policy, c, in, layer);
        dense_bytes += r.dense_bytes;
        caches.push_back(std::move(r.cache));
      }
      int64_t bytes = 0;
      for (size_t layer = 0; layer < caches.size(); ++layer) {
        auto* varlen = dynamic_cast<PerHeadVarlenCache*>(caches[layer].get());
        ASSERT_NE(varlen, nullptr);
        bytes += varlen->bytes();
        for (int64_t h = 0; h < kv_heads; ++h) {
          EXPECT_EQ(to_lists({varlen->positions(h)})[0], c["kept_layers"][layer][h].get<std::vector<int64_t>>())
              << "layer " << layer << " head " << h;
        }
      }
      EXPECT_LT(bytes, dense_bytes);
      continue;
    }

    Inputs in = make_inputs(c["seed"].get<uint64_t>(), heads, kv_heads, total, dim);
    RunResult r = run_layer(*policy, c, in, c["layer"].get<int64_t>());
    if (method == "think") {
      auto* pruned = dynamic_cast<ChannelPrunedCache*>(r.cache.get());
      ASSERT_NE(pruned, nullptr);
      for (int64_t h = 0; h < kv_heads; ++h) {
        EXPECT_EQ(to_lists({pruned->kept_channels()[h]})[0], c["kept_channels"][h].get<std::vector<int64_t>>());
      }
      EXPECT_LT(pruned->bytes(), r.dense_bytes);
      continue;
    }
    auto* varlen = dynamic_cast<PerHeadVarlenCache*>(r.cache.get());
    ASSERT_NE(varlen, nullptr) << "the policy did not compress";
    for (int64_t h = 0; h < kv_heads; ++h) {
      EXPECT_EQ(to_lists({varlen->positions(h)})[0], c["kept"][h].get<std::vector<int64_t>>()) << "head " << h;
    }
    EXPECT_EQ(varlen->logical_length(), total);
    if (c.contains("merged_values")) {
      for (int64_t h = 0; h < kv_heads; ++h) {
        std::vector<float> flat;
        for (const auto& row : c["merged_values"][h]) {
          for (float x : row.get<std::vector<float>>()) flat.push_back(x);
        }
        at::Tensor expected = at::tensor(flat).reshape({-1, dim});
        EXPECT_TRUE(at::allclose(varlen->head_values(h), expected, 1e-5, 1e-6)) << "merged values, head " << h;
      }
    }
  }
}

// CriticalKV needs the layer's o_proj weight: a summary without it is refused with a message naming it.
TEST(AccelEvictionFixtures, CriticalKVRefusesAMissingOProjWeight) {
  c10::InferenceMode guard;
  MethodSpec spec;
  spec.name = "criticalkv";
  spec.params_json = R"({"compression_ratio": 0.5, "scorer": "knorm"})";
  auto policy = resolve_policy(spec)->create(make_context(4, 2, 16, 1));
  policy->begin_sequence(32);
  Inputs in = make_inputs(5, 4, 2, 32, 16);
  model::PrefillSummary summary;
  summary.prompt_length = 32;
  try {
    policy->finish_prefill(dense_cache(in.keys, in.values), summary);
    FAIL() << "expected a refusal";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("o_proj weight"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace loom::accel::testing
