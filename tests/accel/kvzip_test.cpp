// KVzip (`kvzip`, kvpress KVzipPress) against kvpress on the tiny Llama fixture: tests/fixtures/accel/kvzip.json
// (tools/fixtures/make_kvzip_fixtures.py) holds, per case, the template pieces and replayed ids kvpress built and
// the positions each (layer, KV head) keeps after kvpress's context reconstruction. The engine must build the same
// replay inputs and keep the same positions (named by matching the kept keys against the full cache's). Plus: the
// budget rules on hand-made scores, the model rules, bad parameters naming their key.
#include "common/error.h"
#include "rank/accel/kvzip_policy.h"
#include "rank/accel/registry.h"
#include "rank/model/context_replay.h"
#include "rank/model/decoder_model.h"
#include "rank/model/generation.h"
#include "rank/model/inference_engine.h"
#include "rank/model/weight_store.h"
#include "text/tokenizer.h"

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

nlohmann::json load_fixture() {
  std::ifstream in(std::filesystem::path(LOOM_SOURCE_DIR) / "tests" / "fixtures" / "accel" / "kvzip.json");
  return nlohmann::json::parse(in);
}

using Kept = std::vector<std::vector<std::vector<int64_t>>>;

class KVzipFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    weights_ = std::make_unique<model::WeightStore>(kModel);
    model_ = std::make_unique<model::DecoderModel>(model::read_model_card(kModel), *weights_, at::kFloat, at::kCPU,
                                                   nullptr);
    tokenizer_ = text::load_tokenizer(kModel);
  }

  std::unique_ptr<model::Sequence> prefill(const std::vector<int32_t>& ids, const std::string& method,
                                           const nlohmann::json& params) {
    model::GenerationResources res;
    res.model = model_.get();
    res.tokenizer = tokenizer_.get();
    res.resolver = &resolve_policy;
    auto seq = std::make_unique<model::Sequence>();
    seq->request.input_ids = ids;
    seq->request.method.name = method;
    seq->request.method.params_json = params.dump();
    seq->request.generation.max_new_tokens = 1;
    seq->sampler = std::make_unique<model::Sampler>(seq->request.generation);
    model::start_sequence(res, *seq);
    const at::Tensor all = at::tensor(std::vector<int64_t>(ids.begin(), ids.end()), at::kLong);
    const at::Tensor logits = model::run_prefill_chunk(*model_, all, 0, all.size(0), seq->state);
    std::vector<model::PrefillObservation> observations = std::move(seq->state.observations);
    model::finish_sequence(res, *seq, observations, logits);
    return seq;
  }

  std::unique_ptr<model::WeightStore> weights_;
  std::unique_ptr<model::DecoderModel> model_;
  std::unique_ptr<text::Tokenizer> tokenizer_;
};

Kept kept_positions(const model::Sequence& full, const model::Sequence& pressed) {
  Kept out;
  for (size_t layer = 0; layer < full.state.caches.size(); ++layer) {
    const auto [full_keys, full_values] = full.state.caches[layer]->dense();
    out.emplace_back();
    for (int64_t h = 0; h < full_keys.size(0); ++h) {
      const at::Tensor rows = pressed.state.caches[layer]->head_rows(h).first;
      const auto [nearest, index] = at::cdist(rows, full_keys[h], 2, 2).min(1);
      EXPECT_LT(nearest.max().item<float>(), 1e-6f);
      const at::Tensor positions = index.contiguous();
      std::vector<int64_t> p(positions.data_ptr<int64_t>(), positions.data_ptr<int64_t>() + positions.numel());
      std::sort(p.begin(), p.end());
      out.back().push_back(p);
    }
  }
  return out;
}

TEST_F(KVzipFixture, ReplayInputsMatchKvpress) {
  const nlohmann::json fixture = load_fixture();
  const model::ReplayPrompts prompts = model::replay_prompts(kModel, *tokenizer_);
  EXPECT_EQ(prompts.first, fixture["repeat_prompts"]["first"].get<std::vector<int32_t>>());
  EXPECT_EQ(prompts.later, fixture["repeat_prompts"]["later"].get<std::vector<int32_t>>());
  for (const auto& c : fixture["cases"]) {
    SCOPED_TRACE(c["name"].get<std::string>());
    EXPECT_EQ(prompts.prefix_length, c["prefix_length"].get<int64_t>());
    EXPECT_EQ(prompts.suffix, c["suffix_ids"].get<std::vector<int32_t>>());
    MethodSpec spec;
    spec.name = "kvzip";
    spec.params_json = c["params"].dump();
    model::PolicyContext context;
    context.shape = model_->shape();
    const auto ids = c["input_ids"].get<std::vector<int32_t>>();
    auto policy = resolve_policy(spec)->create(context);
    policy->begin_sequence(static_cast<int64_t>(ids.size()));
    ASSERT_TRUE(policy->replays_context());
    std::vector<std::vector<int32_t>> replayed;
    for (const model::ReplayChunk& chunk : policy->replay_chunks(ids, prompts)) replayed.push_back(chunk.ids);
    EXPECT_EQ(replayed, c["replayed"].get<std::vector<std::vector<int32_t>>>());
  }
}

TEST_F(KVzipFixture, KeptPositionsMatchKvpress) {
  c10::InferenceMode guard;
  const nlohmann::json cases = load_fixture()["cases"];
  ASSERT_GE(cases.size(), 3u);
  for (const auto& c : cases) {
    SCOPED_TRACE(c["name"].get<std::string>());
    const auto ids = c["input_ids"].get<std::vector<int32_t>>();
    auto full = prefill(ids, "full", nlohmann::json::object());
    auto pressed = prefill(ids, "kvzip", c["params"]);
    ASSERT_TRUE(pressed->state.policy != nullptr);
    const Kept expected = c["kept"].get<Kept>();
    const Kept got = kept_positions(*full, *pressed);
    ASSERT_EQ(got.size(), expected.size());
    for (size_t layer = 0; layer < got.size(); ++layer) {
      for (size_t h = 0; h < got[layer].size(); ++h) {
        EXPECT_EQ(got[layer][h], expected[layer][h]) << "layer " << layer << " head " << h;
      }
    }
    EXPECT_LT(pressed->result.cost.kv_bytes, full->result.cost.kv_bytes);
  }
}

// compress_post's budgets on hand-made scores: global (the lowest int(numel * r) fix each layer's count) and
// layerwise (int(H * T * r) per layer), each layer dropping its lowest across heads.
TEST(KVzipBudget, GlobalAndLayerwiseCounts) {
  // layer 0 scores high, layer 1 low: the global budget evicts from layer 1 first
  const at::Tensor scores = at::stack({at::full({2, 5}, 10.0) + at::arange(10, at::kFloat).view({2, 5}),
                                       at::arange(10, at::kFloat).view({2, 5})});
  const auto global = kvzip_kept(scores, 0.4, false);  // 8 evicted: all of layer 1 but its two best
  EXPECT_EQ(global[0][0].numel() + global[0][1].numel(), 10);
  EXPECT_EQ(global[1][0].numel(), 0);
  EXPECT_EQ(std::vector<int64_t>(global[1][1].data_ptr<int64_t>(), global[1][1].data_ptr<int64_t>() + 2),
            (std::vector<int64_t>{3, 4}));
  const auto layerwise = kvzip_kept(scores, 0.4, true);  // 4 per layer: head 0's lowest 4
  for (int l = 0; l < 2; ++l) {
    EXPECT_EQ(layerwise[l][0].numel(), 1);
    EXPECT_EQ(layerwise[l][1].numel(), 5);
  }
}

// The score of a chunk: the replayed queries' softmax over [sinks, chunk, replayed keys] only, max over the group
// and the queries. With one replayed query whose logits are all equal, each of the n subset keys gets 1 / n.
TEST(KVzipBudget, ChunkScoreIsTheRestrictedSoftmax) {
  const at::Tensor keys = at::zeros({1, 10 + 1, 4});  // 10 prompt keys, 1 replayed
  const at::Tensor queries = at::zeros({2, 1, 4});     // 2 query heads in the KV head's group
  const at::Tensor s = kvzip_chunk_scores(queries, keys, 5, 8, 4);  // 4 sinks + 3 chunk keys + 1 own key
  ASSERT_EQ(s.sizes(), (at::IntArrayRef{1, 3}));
  EXPECT_TRUE(at::allclose(s, at::full({1, 3}, 1.0 / 8)));
}

TEST(KVzipBudget, BadParametersNameTheKey) {
  auto key_of = [](const std::string& params) {
    MethodSpec s;
    s.name = "kvzip";
    s.params_json = params;
    try {
      resolve_policy(s);
    } catch (const InputError& e) {
      return e.key();
    }
    return std::string("<no error>");
  };
  EXPECT_EQ(key_of(R"({"chunk_size": 0})"), "params.chunk_size");
  EXPECT_EQ(key_of(R"({"layerwise": 1})"), "params.layerwise");
  EXPECT_EQ(key_of(R"({"n_sink": -1})"), "params.n_sink");
  EXPECT_EQ(key_of(R"({"compression_ratio": 1.0})"), "params.compression_ratio");
  EXPECT_EQ(key_of(R"({"kvzip_plus_normalization": true})"), "params.kvzip_plus_normalization");
  EXPECT_EQ(key_of(R"({"compression_ratio": 0.3, "layerwise": true, "chunk_size": 64})"), "<no error>");
}

// A model with sliding-window layers is refused per sample, as kvpress refuses Gemma-3.
TEST(KVzipBudget, RefusesSlidingWindowLayers) {
  model::EngineOptions options;
  options.model_dir = std::filesystem::path(LOOM_SOURCE_DIR) / "tests" / "fixtures" / "models" / "mistral_sliding";
  options.device = "cpu";
  options.dtype = "float32";
  auto e = model::create_engine(options, nullptr, &resolve_policy);
  model::InferenceRequest r;
  r.input_ids = {5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
  r.method.name = "kvzip";
  r.generation.max_new_tokens = 2;
  const model::InferenceResult result = e->run({r}).at(0);
  EXPECT_FALSE(result.ok);
  EXPECT_NE(result.error.find("sliding-window layer"), std::string::npos) << result.error;
}

}  // namespace
}  // namespace loom::accel
