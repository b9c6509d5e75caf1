// Key re-rotation (`key_rerotation`, kvpress KeyRerotationPress) against kvpress's pipeline on the same inputs:
// tests/fixtures/accel/rerotation.json (tools/fixtures/make_rerotation_fixtures.py) holds, per case, the positions
// each (layer, KV head) keeps after the context's prefill, the re-rotated keys of every layer, the position kvpress's
// pipeline decodes from (the compressed cache's length) and the greedy ids once the question is fed. The engine
// must keep the same positions, hold the same keys (fp32, within 1e-5), continue at the same position and generate
// the same ids.
#include "rank/accel/eviction_policy.h"
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
  std::ifstream in(std::filesystem::path(LOOM_SOURCE_DIR) / "tests" / "fixtures" / "accel" / "rerotation.json");
  return nlohmann::json::parse(in)["cases"];
}

model::InferenceRequest request_of(const nlohmann::json& c, const nlohmann::json& method, bool question_agnostic) {
  model::InferenceRequest r;
  r.input_ids = c["context_ids"].get<std::vector<int32_t>>();
  const auto question = c["question_ids"].get<std::vector<int32_t>>();
  r.input_ids.insert(r.input_ids.end(), question.begin(), question.end());
  r.question_tokens = question_agnostic ? static_cast<int64_t>(question.size()) : 0;
  r.method.name = method["name"].get<std::string>();
  r.method.params_json = method["params"].dump();
  r.sample_key = c["name"].get<std::string>() + "/" + r.method.name;
  r.generation.max_new_tokens = c["max_new_tokens"].get<int32_t>();
  r.generation.ignore_eos = true;
  return r;
}

nlohmann::json pressed(const nlohmann::json& c) { return {{"name", c["method"]}, {"params", c["params"]}}; }

// The same selection without re-rotation: the scorer's own method with the scorer's parameters.
nlohmann::json unrotated(const nlohmann::json& c) {
  nlohmann::json params = c["params"];
  const std::string scorer = params["scorer"].get<std::string>();
  params.erase("scorer");
  return {{"name", scorer}, {"params", params}};
}

std::unique_ptr<model::Sequence> prefill(model::DecoderModel& m, const nlohmann::json& c,
                                         const nlohmann::json& method) {
  model::GenerationResources res;
  res.model = &m;
  res.resolver = &resolve_policy;
  auto seq = std::make_unique<model::Sequence>();
  seq->request = request_of(c, method, true);
  seq->sampler = std::make_unique<model::Sampler>(seq->request.generation);
  model::start_sequence(res, *seq);
  const std::vector<int32_t> ids = model::prefill_ids(seq->request);
  const at::Tensor all = at::tensor(std::vector<int64_t>(ids.begin(), ids.end()), at::kLong);
  const at::Tensor logits = model::run_prefill_chunk(m, all, 0, all.size(0), seq->state);
  std::vector<model::PrefillObservation> observations = std::move(seq->state.observations);
  model::finish_sequence(res, *seq, observations, logits);
  return seq;
}

TEST(KeyRerotation, KeptPositionsKeysAndPositionMatchKvpressPipeline) {
  c10::InferenceMode guard;
  model::WeightStore weights(kModel);
  model::DecoderModel m(model::read_model_card(kModel), weights, at::kFloat, at::kCPU, nullptr);
  const nlohmann::json cases = load_cases();
  ASSERT_GE(cases.size(), 3u);
  for (const auto& c : cases) {
    SCOPED_TRACE(c["name"].get<std::string>());
    auto full = prefill(m, c, {{"name", "full"}, {"params", nlohmann::json::object()}});
    auto plain = prefill(m, c, unrotated(c));
    auto rotated = prefill(m, c, pressed(c));
    EXPECT_EQ(rotated->next_position, c["context_length"].get<int64_t>());
    EXPECT_EQ(plain->next_position, static_cast<int64_t>(c["context_ids"].size()));
    const auto kept = c["kept"].get<std::vector<std::vector<std::vector<int64_t>>>>();
    const auto keys = c["keys"].get<std::vector<std::vector<std::vector<std::vector<float>>>>>();
    for (size_t layer = 0; layer < kept.size(); ++layer) {
      const auto [full_keys, full_values] = full->state.caches[layer]->dense();
      for (size_t h = 0; h < kept[layer].size(); ++h) {
        // the selection: the unrotated method's rows, named by matching the full cache's keys
        const at::Tensor rows = plain->state.caches[layer]->head_rows(static_cast<int64_t>(h)).first;
        const at::Tensor distance = at::cdist(rows, full_keys[static_cast<int64_t>(h)], 2, 2);
        at::Tensor positions = std::get<1>(distance.min(1)).contiguous();
        std::vector<int64_t> p(positions.data_ptr<int64_t>(), positions.data_ptr<int64_t>() + positions.numel());
        std::sort(p.begin(), p.end());
        EXPECT_EQ(p, kept[layer][h]) << "layer " << layer << " head " << h;
        // the re-rotated keys
        const at::Tensor got = rotated->state.caches[layer]->head_rows(static_cast<int64_t>(h)).first;
        std::vector<float> flat;
        for (const auto& row : keys[layer][h]) flat.insert(flat.end(), row.begin(), row.end());
        const at::Tensor expected =
            at::tensor(flat, at::kFloat).view({static_cast<int64_t>(keys[layer][h].size()), -1});
        ASSERT_EQ(got.sizes(), expected.sizes());
        EXPECT_LT((got - expected).abs().max().item<float>(), 1e-5f) << "layer " << layer << " head " << h;
        // re-rotation moved the keys (the check discriminates)
        EXPECT_GT((got - rows).abs().max().item<float>(), 1e-2f);
      }
    }
  }
}

std::unique_ptr<model::InferenceEngine> engine() {
  model::EngineOptions options;
  options.model_dir = kModel;
  options.device = "cpu";
  options.dtype = "float32";
  options.max_batch_size = 8;
  return model::create_engine(options, nullptr, &resolve_policy);
}

// Through the engine with kvpress's question-agnostic protocol: the same greedy ids as kvpress's pipeline, batched
// as a sweep (with the unrotated method) and alone. (On this random tiny model the unrotated method happens to give
// the same ids, so the ids alone do not discriminate; the keys and the decode position above do.)
TEST(KeyRerotation, GreedyIdsMatchKvpressPipeline) {
  auto e = engine();
  const nlohmann::json cases = load_cases();
  std::vector<model::InferenceRequest> batch;
  for (const auto& c : cases) {
    batch.push_back(request_of(c, pressed(c), true));
    batch.push_back(request_of(c, unrotated(c), true));
  }
  const std::vector<model::InferenceResult> results = e->run(batch);
  for (size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE(cases[i]["name"].get<std::string>());
    ASSERT_TRUE(results[2 * i].ok) << results[2 * i].error;
    ASSERT_TRUE(results[2 * i + 1].ok) << results[2 * i + 1].error;
    EXPECT_EQ(results[2 * i].output_ids, cases[i]["greedy"].get<std::vector<int32_t>>());
    EXPECT_EQ(e->run({batch[2 * i]}).at(0).output_ids, results[2 * i].output_ids);
  }
}

// Query-aware mode (the whole prompt compressed): decoding continues at the kept count, batched or alone.
TEST(KeyRerotation, QueryAwareRuns) {
  auto e = engine();
  const nlohmann::json c = load_cases().at(0);
  const model::InferenceRequest r = request_of(c, pressed(c), false);
  const model::InferenceResult together = e->run({r, request_of(c, unrotated(c), false)}).at(0);
  ASSERT_TRUE(together.ok) << together.error;
  EXPECT_EQ(together.output_ids.size(), 16u);
  EXPECT_EQ(e->run({r}).at(0).output_ids, together.output_ids);
}

// A model with sliding-window layers is refused per sample (those layers keep the original positions).
TEST(KeyRerotation, RefusesSlidingWindowLayers) {
  model::EngineOptions options;
  options.model_dir = std::filesystem::path(LOOM_SOURCE_DIR) / "tests" / "fixtures" / "models" / "mistral_sliding";
  options.device = "cpu";
  options.dtype = "float32";
  auto e = model::create_engine(options, nullptr, &resolve_policy);
  model::InferenceRequest r;
  r.input_ids = {5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
  r.method.name = "key_rerotation";
  r.generation.max_new_tokens = 2;
  const model::InferenceResult result = e->run({r}).at(0);
  EXPECT_FALSE(result.ok);
  EXPECT_NE(result.error.find("sliding-window layer"), std::string::npos) << result.error;
}

// rerotate_keys: rotating by delta = i - p is RoPE's rotation by that angle (a key at position p moves to i).
TEST(KeyRerotation, RerotationIsARotationByTheDelta) {
  const at::Tensor inv_freq = at::pow(10000.0, -at::arange(0, 8, at::kFloat) / 8.0);
  const at::Tensor base = at::randn({3, 16});
  const at::Tensor positions = at::tensor(std::vector<int64_t>{2, 5, 9});
  auto rotate_to = [&](const at::Tensor& rows, const at::Tensor& pos) {
    const at::Tensor angles = pos.to(at::kFloat).unsqueeze(1) * inv_freq.unsqueeze(0);
    const at::Tensor emb = at::cat({angles, angles}, -1);
    const at::Tensor half = at::cat({-rows.narrow(1, 8, 8), rows.narrow(1, 0, 8)}, 1);
    return rows * emb.cos() + half * emb.sin();
  };
  const at::Tensor at_positions = rotate_to(base, positions);
  const at::Tensor moved = rerotate_keys(at_positions, positions, inv_freq);
  EXPECT_TRUE(at::allclose(moved, rotate_to(base, at::arange(3, at::kLong)), 1e-4, 1e-5));
}

}  // namespace
}  // namespace loom::accel
