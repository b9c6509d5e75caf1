// Question-agnostic compression (InferenceRequest::question_tokens) against kvpress's pipeline on the same inputs:
// tests/fixtures/accel/query_agnostic.json (tools/fixtures/make_query_agnostic_fixtures.py) holds, per press, the
// positions each (layer, KV head) keeps after the context's prefill and the greedy ids kvpress's
// KVPressTextGenerationPipeline generates once the question is fed over the compressed cache. The engine must keep
// the same positions and generate the same ids.
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
  std::ifstream in(std::filesystem::path(LOOM_SOURCE_DIR) / "tests" / "fixtures" / "accel" / "query_agnostic.json");
  return nlohmann::json::parse(in)["cases"];
}

std::vector<int32_t> ids_of(const nlohmann::json& values) { return values.get<std::vector<int32_t>>(); }

model::InferenceRequest request_of(const nlohmann::json& c, bool question_agnostic) {
  model::InferenceRequest r;
  r.input_ids = ids_of(c["context_ids"]);
  const std::vector<int32_t> question = ids_of(c["question_ids"]);
  r.input_ids.insert(r.input_ids.end(), question.begin(), question.end());
  r.question_tokens = question_agnostic ? static_cast<int64_t>(question.size()) : 0;
  r.method.name = c["method"].get<std::string>();
  r.method.params_json = c["params"].dump();
  r.method.label = c["name"].get<std::string>();
  r.sample_key = r.method.label;
  r.generation.max_new_tokens = c["max_new_tokens"].get<int32_t>();
  r.generation.ignore_eos = true;  // the fixture's kvpress run never stops at EOS
  r.generation.prefill_chunk_size = 40;  // several chunks: the observation window spans them
  return r;
}

std::unique_ptr<model::InferenceEngine> engine() {
  model::EngineOptions options;
  options.model_dir = kModel;
  options.device = "cpu";
  options.dtype = "float32";
  options.max_batch_size = 8;
  options.cuda_graphs = false;
  return model::create_engine(options, nullptr, &resolve_policy);
}

TEST(QueryAgnostic, GreedyIdsMatchKvpressPipeline) {
  auto e = engine();
  const nlohmann::json cases = load_cases();
  ASSERT_GE(cases.size(), 5u);
  std::vector<model::InferenceRequest> batch;
  for (const auto& c : cases) batch.push_back(request_of(c, true));
  const std::vector<model::InferenceResult> results = e->run(batch);  // batched, as a sweep runs
  for (size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE(cases[i]["name"].get<std::string>());
    ASSERT_TRUE(results[i].ok) << results[i].error;
    EXPECT_EQ(results[i].output_ids, ids_of(cases[i]["greedy"]));
    EXPECT_EQ(results[i].cost.input_tokens, static_cast<int64_t>(batch[i].input_ids.size()));
    const model::InferenceResult alone = e->run({batch[i]}).at(0);  // alone: the same ids
    EXPECT_EQ(alone.output_ids, results[i].output_ids);
  }
}

// Without compression, feeding the question over the context's cache is the query-aware prefill of the whole prompt.
TEST(QueryAgnostic, FullCacheEqualsQueryAware) {
  auto e = engine();
  const nlohmann::json c = load_cases().at(0);
  ASSERT_EQ(c["method"], "full");
  const model::InferenceResult agnostic = e->run({request_of(c, true)}).at(0);
  const model::InferenceResult aware = e->run({request_of(c, false)}).at(0);
  ASSERT_TRUE(agnostic.ok) << agnostic.error;
  EXPECT_EQ(agnostic.output_ids, aware.output_ids);
  EXPECT_EQ(agnostic.cost.kv_bytes, aware.cost.kv_bytes);  // the context's and the question's rows
}

// Every cache layout takes the question over its compressed (or quantized, channel-pruned, sparse-prefilled)
// context: paged rows, per-layer and per-head budgets, KIVI and ThinK (decoded through their own caches), and a
// sparse prefill; batched as a sweep and alone, the same ids.
TEST(QueryAgnostic, EveryLayoutRunsTheMode) {
  auto e = engine();
  const nlohmann::json c = load_cases().at(1);
  const std::vector<std::pair<std::string, nlohmann::json>> methods = {
      {"adakv", {{"compression_ratio", 0.5}, {"window_size", 8}}},
      {"pyramidkv", {{"compression_ratio", 0.5}, {"window_size", 8}}},
      {"cakekv", {{"max_capacity_prompt", 48}, {"window_size", 8}}},
      {"kivi", {{"k_bits", 2}, {"v_bits", 2}, {"residual_length", 16}, {"group_size", 8}}},
      {"think", {{"key_channel_compression_ratio", 0.5}, {"window_size", 8}}},
      {"streaming_llm", {{"compression_ratio", 0.5}}},
      {"xattention", {{"block_size", 32}, {"stride", 8}, {"threshold", 0.5}}},
  };
  std::vector<model::InferenceRequest> batch;
  for (const auto& [name, params] : methods) {
    nlohmann::json with = c;
    with["method"] = name;
    with["params"] = params;
    with["name"] = name;
    batch.push_back(request_of(with, true));
  }
  const std::vector<model::InferenceResult> together = e->run(batch);
  for (size_t i = 0; i < batch.size(); ++i) {
    SCOPED_TRACE(batch[i].method.name);
    ASSERT_TRUE(together[i].ok) << together[i].error;
    EXPECT_EQ(together[i].output_ids.size(), 16u);
    const model::InferenceResult alone = e->run({batch[i]}).at(0);
    EXPECT_EQ(alone.output_ids, together[i].output_ids);
    EXPECT_GT(alone.cost.kv_bytes, 0);
  }
}

// The kept positions of every (layer, KV head) after the context's prefill, read from the compressed cache.
std::vector<std::vector<std::vector<int64_t>>> kept_after_context(model::DecoderModel& m, const nlohmann::json& c) {
  model::GenerationResources res;
  res.model = &m;
  res.resolver = &resolve_policy;
  auto prefill = [&](const nlohmann::json& method) {
    nlohmann::json with = c;
    with["method"] = method["name"];
    with["params"] = method["params"];
    auto seq = std::make_unique<model::Sequence>();
    seq->request = request_of(with, true);
    seq->sampler = std::make_unique<model::Sampler>(seq->request.generation);
    model::start_sequence(res, *seq);
    const std::vector<int32_t> ids = model::prefill_ids(seq->request);
    const at::Tensor all = at::tensor(std::vector<int64_t>(ids.begin(), ids.end()), at::kLong);
    const at::Tensor logits = model::run_prefill_chunk(m, all, 0, all.size(0), seq->state);
    std::vector<model::PrefillObservation> observations = std::move(seq->state.observations);
    model::finish_sequence(res, *seq, observations, logits);
    EXPECT_TRUE(seq->decoding);  // the question comes next: no token taken from the context
    EXPECT_EQ(seq->next_position, all.size(0));
    return seq;
  };
  auto full = prefill({{"name", "full"}, {"params", nlohmann::json::object()}});
  auto pressed = prefill({{"name", c["method"]}, {"params", c["params"]}});
  std::vector<std::vector<std::vector<int64_t>>> kept;
  for (size_t layer = 0; layer < pressed->state.caches.size(); ++layer) {
    kept.emplace_back();
    const auto [full_keys, full_values] = full->state.caches[layer]->dense();
    for (int64_t h = 0; h < full_keys.size(0); ++h) {
      const at::Tensor rows = pressed->state.caches[layer]->head_rows(h).first;  // [kept, d]
      const at::Tensor distance = at::cdist(rows, full_keys[h], 2, 2);                // [kept, T]
      EXPECT_EQ(std::get<0>(distance.min(1)).max().item<float>(), 0.0f);
      at::Tensor positions = std::get<1>(distance.min(1)).contiguous();
      std::vector<int64_t> p(positions.data_ptr<int64_t>(), positions.data_ptr<int64_t>() + positions.numel());
      std::sort(p.begin(), p.end());
      kept.back().push_back(p);
    }
  }
  return kept;
}

TEST(QueryAgnostic, KeptPositionsMatchKvpressPipeline) {
  c10::InferenceMode guard;
  model::WeightStore weights(kModel);
  model::DecoderModel m(model::read_model_card(kModel), weights, at::kFloat, at::kCPU, nullptr);
  for (const auto& c : load_cases()) {
    if (c["method"] == "full") continue;
    SCOPED_TRACE(c["name"].get<std::string>());
    const auto kept = kept_after_context(m, c);
    EXPECT_EQ(kept, c["kept"].get<std::vector<std::vector<std::vector<int64_t>>>>());
  }
}

TEST(QueryAgnostic, RefusesAQuestionWithoutContext) {
  auto e = engine();
  model::InferenceRequest r = request_of(load_cases().at(0), true);
  r.question_tokens = static_cast<int64_t>(r.input_ids.size());
  const model::InferenceResult result = e->run({r}).at(0);
  EXPECT_FALSE(result.ok);
  EXPECT_NE(result.error.find("question_tokens"), std::string::npos) << result.error;
}

}  // namespace
}  // namespace loom::accel
