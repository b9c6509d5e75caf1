// Compactor (`compactor`, kvpress CompactorPress) against kvpress on the tiny Llama fixture:
// tests/fixtures/accel/compactor.json (tools/fixtures/make_compactor_fixtures.py) holds, per case, the positions each
// (layer, KV head) keeps after kvpress's press compressed the prefill, with torch's generator seeded with `seed`
// before each layer's sketch. The engine must keep the same positions (named by matching the kept keys against the
// full cache's). Plus: the seed matters, the budget is kvpress's, the pieces behave as kvpress's, bad parameters name
// their key.
#include "common/error.h"
#include "rank/accel/compactor_scores.h"
#include "rank/accel/registry.h"
#include "rank/model/decoder_model.h"
#include "rank/model/generation.h"
#include "rank/model/inference_engine.h"
#include "rank/model/weight_store.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace loom::accel {
namespace {

const std::filesystem::path kModel =
    std::filesystem::path(LOOM_SOURCE_DIR) / "tests" / "fixtures" / "models" / "llama3_tiny";

nlohmann::json load_cases() {
  std::ifstream in(std::filesystem::path(LOOM_SOURCE_DIR) / "tests" / "fixtures" / "accel" / "compactor.json");
  return nlohmann::json::parse(in)["cases"];
}

std::unique_ptr<model::Sequence> prefill(model::DecoderModel& m, const std::vector<int32_t>& ids,
                                         const std::string& method, const nlohmann::json& params) {
  model::GenerationResources res;
  res.model = &m;
  res.resolver = &resolve_policy;
  auto seq = std::make_unique<model::Sequence>();
  seq->request.input_ids = ids;
  seq->request.method.name = method;
  seq->request.method.params_json = params.dump();
  seq->request.generation.max_new_tokens = 1;
  seq->sampler = std::make_unique<model::Sampler>(seq->request.generation);
  model::start_sequence(res, *seq);
  const at::Tensor all = at::tensor(std::vector<int64_t>(ids.begin(), ids.end()), at::kLong);
  const at::Tensor logits = model::run_prefill_chunk(m, all, 0, all.size(0), seq->state);
  std::vector<model::PrefillObservation> observations = std::move(seq->state.observations);
  model::finish_sequence(res, *seq, observations, logits);
  return seq;
}

// Positions each (layer, head) of `pressed` kept, named by matching its rows against the full cache's keys.
std::vector<std::vector<std::vector<int64_t>>> kept_positions(const model::Sequence& full,
                                                              const model::Sequence& pressed) {
  std::vector<std::vector<std::vector<int64_t>>> out;
  for (size_t layer = 0; layer < full.state.caches.size(); ++layer) {
    const auto [full_keys, full_values] = full.state.caches[layer]->dense();
    out.emplace_back();
    for (int64_t h = 0; h < full_keys.size(0); ++h) {
      const at::Tensor rows = pressed.state.caches[layer]->head_rows(h).first;
      const at::Tensor distance = at::cdist(rows, full_keys[h], 2, 2);
      const auto [nearest, index] = distance.min(1);
      EXPECT_LT(nearest.max().item<float>(), 1e-6f);
      const at::Tensor positions = index.contiguous();
      std::vector<int64_t> p(positions.data_ptr<int64_t>(), positions.data_ptr<int64_t>() + positions.numel());
      std::sort(p.begin(), p.end());
      out.back().push_back(p);
    }
  }
  return out;
}

class CompactorFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    weights_ = std::make_unique<model::WeightStore>(kModel);
    model_ = std::make_unique<model::DecoderModel>(model::read_model_card(kModel), *weights_, at::kFloat, at::kCPU,
                                                   nullptr);
  }
  std::unique_ptr<model::WeightStore> weights_;
  std::unique_ptr<model::DecoderModel> model_;
};

TEST_F(CompactorFixture, KeptPositionsMatchKvpress) {
  c10::InferenceMode guard;
  const nlohmann::json cases = load_cases();
  ASSERT_GE(cases.size(), 4u);
  for (const auto& c : cases) {
    SCOPED_TRACE(c["name"].get<std::string>());
    const auto ids = c["input_ids"].get<std::vector<int32_t>>();
    auto full = prefill(*model_, ids, "full", nlohmann::json::object());
    auto pressed = prefill(*model_, ids, "compactor", c["params"]);
    const auto expected = c["kept"].get<std::vector<std::vector<std::vector<int64_t>>>>();
    const auto got = kept_positions(*full, *pressed);
    ASSERT_EQ(got.size(), expected.size());
    for (size_t layer = 0; layer < got.size(); ++layer) {
      for (size_t h = 0; h < got[layer].size(); ++h) {
        EXPECT_EQ(got[layer][h], expected[layer][h]) << "layer " << layer << " head " << h;
      }
    }
  }
}

// The sketch's seed changes the kept set (so the fixture's seeding is what makes it match), and kv_bytes drops.
TEST_F(CompactorFixture, SeedChangesTheSelection) {
  c10::InferenceMode guard;
  const nlohmann::json c = load_cases().at(0);
  const auto ids = c["input_ids"].get<std::vector<int32_t>>();
  nlohmann::json params = c["params"];
  auto full = prefill(*model_, ids, "full", nlohmann::json::object());
  auto a = prefill(*model_, ids, "compactor", params);
  params["seed"] = params["seed"].get<int64_t>() + 1;
  params["blending"] = 5.0;  // let the leverage term dominate
  auto b = prefill(*model_, ids, "compactor", params);
  params["seed"] = c["params"]["seed"];
  auto b_same_seed = prefill(*model_, ids, "compactor", params);
  EXPECT_NE(kept_positions(*full, *b), kept_positions(*full, *b_same_seed));
  EXPECT_LT(a->result.cost.kv_bytes, full->result.cost.kv_bytes);
  // kvpress's budget: int(T * (1 - r)) per head
  EXPECT_EQ(a->state.caches[0]->head_rows(0).first.size(0), static_cast<int64_t>(ids.size() * 0.5));
}

// kvpress's last-chunk padding: a padded query attends uniformly over its chunk, so every key of the last chunk
// receives pad / chunk_size from the padded queries; without padding each column sum is that of plain softmaxes.
TEST(CompactorScores, NonCausalChunkedAttentionPadsAsKvpress) {
  const at::Tensor q = at::zeros({1, 3, 4});
  const at::Tensor k = at::zeros({1, 3, 4});
  // all logits 0: 3 valid queries over 4 keys (3 valid + 1 padded key at logit -1e-9 ~ 0), plus 1 padded query
  const at::Tensor a = non_causal_chunked_attention(q, k, 4);
  ASSERT_EQ(a.sizes(), (at::IntArrayRef{1, 3}));
  EXPECT_NEAR(a[0][0].item<float>(), 3 * 0.25f + 0.25f, 1e-6);
  const at::Tensor b = non_causal_chunked_attention(at::zeros({1, 4, 4}), at::zeros({1, 4, 4}), 2);
  EXPECT_TRUE(at::allclose(b, at::ones({1, 4})));
}

// Leverage scores of a full-rank sketch sum to about the sketch's rank (a projection's trace), less the jitter.
TEST(CompactorScores, LeverageIsAProjectionDiagonal) {
  at::manual_seed(3);
  const at::Tensor keys = at::randn({2, 64, 8}) * 10;
  const at::Tensor sketch = at::randn({2, 8, 4});
  const at::Tensor s = leverage_scores(keys, sketch);
  ASSERT_EQ(s.sizes(), (at::IntArrayRef{2, 64}));
  EXPECT_GE(s.min().item<float>(), 0.0f);
  EXPECT_NEAR(s[0].sum().item<float>(), 4.0f, 0.01f);
  EXPECT_LE(s.max().item<float>(), 1.0f);
}

TEST(CompactorScores, BadParametersNameTheKey) {
  auto key_of = [](const std::string& params) {
    MethodSpec s;
    s.name = "compactor";
    s.params_json = params;
    try {
      resolve_policy(s);
    } catch (const InputError& e) {
      return e.key();
    }
    return std::string("<no error>");
  };
  EXPECT_EQ(key_of(R"({"chunk_size": 0})"), "params.chunk_size");
  EXPECT_EQ(key_of(R"({"sketch_dimension": 0})"), "params.sketch_dimension");
  EXPECT_EQ(key_of(R"({"blending": -1})"), "params.blending");
  EXPECT_EQ(key_of(R"({"sink_size_end": "4"})"), "params.sink_size_end");
  EXPECT_EQ(key_of(R"({"seed": -2})"), "params.seed");
  EXPECT_EQ(key_of(R"({"sketch_dim": 8})"), "params.sketch_dim");
  EXPECT_EQ(key_of(R"({"compression_ratio": 0.5, "blending": 0.1, "seed": 3})"), "<no error>");
}

}  // namespace
}  // namespace loom::accel
