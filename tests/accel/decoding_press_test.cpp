// Decode-time compression (`decoding`, kvpress DecodingPress) against kvpress on the same inputs:
// tests/fixtures/accel/decoding.json (tools/fixtures/make_decoding_fixtures.py) holds, per case, the prompt ids, the
// greedy ids kvpress generates with the press active, and for every compression the decode step, the cache length
// and the positions each (layer, KV head) keeps. The engine must compress at the same steps, keep the same positions
// and generate the same ids: step by step through the model (the sequence's own caches, rows tracked by the test),
// and through the engine (paged rows, batched as a sweep and alone).
#include "rank/accel/decoding_policy.h"
#include "rank/accel/registry.h"
#include "rank/model/decode_compression.h"
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
  std::ifstream in(std::filesystem::path(LOOM_SOURCE_DIR) / "tests" / "fixtures" / "accel" / "decoding.json");
  return nlohmann::json::parse(in)["cases"];
}

model::InferenceRequest request_of(const nlohmann::json& c) {
  model::InferenceRequest r;
  r.input_ids = c["prompt_ids"].get<std::vector<int32_t>>();
  r.method.name = c["method"].get<std::string>();
  r.method.params_json = c["params"].dump();
  r.method.label = c["name"].get<std::string>();
  r.sample_key = r.method.label;
  r.generation.max_new_tokens = c["max_new_tokens"].get<int32_t>();
  r.generation.ignore_eos = true;  // the fixture's kvpress run never stops at EOS
  return r;
}

struct Compression {
  int64_t step = 0, layer = 0, length = 0;
  std::vector<std::vector<int64_t>> kept;
  bool operator==(const Compression& o) const {
    return step == o.step && layer == o.layer && length == o.length && kept == o.kept;
  }
};

std::ostream& operator<<(std::ostream& out, const Compression& c) {
  return out << "step " << c.step << " layer " << c.layer << " length " << c.length;
}

// Prefill, then greedy decode steps through the sequence's own caches, calling the engine's after_decode_step; the
// original position of every cache row is tracked beside it (as the fixture script tracks kvpress's rows).
std::vector<Compression> run_steps(model::DecoderModel& m, const nlohmann::json& c, std::vector<int32_t>& greedy) {
  model::GenerationResources res;
  res.model = &m;
  res.resolver = &resolve_policy;
  model::Sequence seq;
  seq.request = request_of(c);
  seq.sampler = std::make_unique<model::Sampler>(seq.request.generation);
  model::start_sequence(res, seq);
  const std::vector<int32_t> ids = model::prefill_ids(seq.request);
  const at::Tensor all = at::tensor(std::vector<int64_t>(ids.begin(), ids.end()), at::kLong);
  const at::Tensor logits = model::run_prefill_chunk(m, all, 0, all.size(0), seq.state);
  std::vector<model::PrefillObservation> observations = std::move(seq.state.observations);
  model::finish_sequence(res, seq, observations, logits);
  EXPECT_TRUE(model::compresses_while_decoding(seq));
  model::begin_decode_queries(m, seq);
  const int64_t layers = m.config().num_layers, kv_heads = m.shape().num_kv_heads;
  std::vector<std::vector<std::vector<int64_t>>> positions(
      static_cast<size_t>(layers), std::vector<std::vector<int64_t>>(static_cast<size_t>(kv_heads)));
  for (auto& layer : positions) {
    for (auto& head : layer) {
      for (int64_t p = 0; p < all.size(0); ++p) head.push_back(p);
    }
  }
  std::vector<Compression> events;
  for (int64_t step = 1; seq.decoding; ++step) {
    for (auto& layer : positions) {
      for (auto& head : layer) head.push_back(seq.next_position);
    }
    model::DecodeStep decode;
    decode.token_ids = at::tensor(std::vector<int64_t>{model::next_input(seq)}, at::kLong);
    decode.positions = at::tensor(std::vector<int64_t>{seq.next_position}, at::kLong);
    decode.slot_of = at::tensor(std::vector<int32_t>{-1}, at::kInt);
    decode.unpaged.emplace_back(0, &seq.state);
    decode.observed.emplace_back(0, &seq.state);
    const at::Tensor out = m.forward_decode(decode);
    seq.next_position += 1;
    const auto kept = model::after_decode_step(res, seq, nullptr, {});
    for (size_t layer = 0; layer < kept.size(); ++layer) {
      if (kept[layer].empty()) continue;
      Compression e{step, static_cast<int64_t>(layer),
                    static_cast<int64_t>(positions[layer][0].size()), {}};
      for (int64_t h = 0; h < kv_heads; ++h) {
        const at::Tensor rows = kept[layer][static_cast<size_t>(h)].contiguous();
        std::vector<int64_t> moved;
        for (int64_t i = 0; i < rows.numel(); ++i) {
          moved.push_back(positions[layer][static_cast<size_t>(h)].at(static_cast<size_t>(rows[i].item<int64_t>())));
        }
        positions[layer][static_cast<size_t>(h)] = moved;
        std::sort(moved.begin(), moved.end());
        e.kept.push_back(moved);
      }
      events.push_back(e);
    }
    if (model::accept_token(seq, static_cast<int32_t>(out[0].argmax().item<int64_t>()), nullptr)) seq.decoding = false;
  }
  greedy = seq.generated;
  return events;
}

TEST(DecodingPress, CompressionsAndGreedyIdsMatchKvpress) {
  c10::InferenceMode guard;
  model::WeightStore weights(kModel);
  model::DecoderModel m(model::read_model_card(kModel), weights, at::kFloat, at::kCPU, nullptr);
  m.prepare_decode(512);
  const nlohmann::json cases = load_cases();
  ASSERT_GE(cases.size(), 5u);
  for (const auto& c : cases) {
    SCOPED_TRACE(c["name"].get<std::string>());
    std::vector<Compression> expected;
    for (const auto& e : c["compressions"]) {
      expected.push_back({e["step"].get<int64_t>(), e["layer"].get<int64_t>(), e["length"].get<int64_t>(),
                          e["kept"].get<std::vector<std::vector<int64_t>>>()});
    }
    ASSERT_FALSE(expected.empty());
    std::vector<int32_t> greedy;
    const std::vector<Compression> got = run_steps(m, c, greedy);
    ASSERT_EQ(got.size(), expected.size());
    for (size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i], expected[i]) << "compression " << i;
    EXPECT_EQ(greedy, c["greedy"].get<std::vector<int32_t>>());
  }
}

std::unique_ptr<model::InferenceEngine> engine() {
  model::EngineOptions options;
  options.model_dir = kModel;
  options.device = "cpu";
  options.dtype = "float32";
  options.max_batch_size = 8;
  options.kv_page_size = 16;  // compressions free whole pages
  return model::create_engine(options, nullptr, &resolve_policy);
}

// Through the engine: paged rows rewritten after the step, batched as a sweep (with a full-cache request of each
// prompt) and alone. The compressed runs generate other ids than the full cache (so the check discriminates).
TEST(DecodingPress, EngineGreedyIdsMatchKvpress) {
  auto e = engine();
  const nlohmann::json cases = load_cases();
  std::vector<model::InferenceRequest> batch;
  for (const auto& c : cases) {
    batch.push_back(request_of(c));
    model::InferenceRequest full = request_of(c);
    full.method = MethodSpec{};
    full.method.name = "full";
    full.sample_key = "full";
    batch.push_back(full);
  }
  const std::vector<model::InferenceResult> results = e->run(batch);
  int differ = 0;
  for (size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE(cases[i]["name"].get<std::string>());
    const model::InferenceResult& pressed = results[2 * i];
    ASSERT_TRUE(pressed.ok) << pressed.error;
    ASSERT_TRUE(results[2 * i + 1].ok) << results[2 * i + 1].error;
    EXPECT_EQ(pressed.output_ids, cases[i]["greedy"].get<std::vector<int32_t>>());
    differ += pressed.output_ids != results[2 * i + 1].output_ids;
    const model::InferenceResult alone = e->run({batch[2 * i]}).at(0);
    EXPECT_EQ(alone.output_ids, pressed.output_ids);
  }
  EXPECT_GT(differ, 0);
}

// kvpress's question-agnostic pipeline: the question is fed in one forward (one step and one buffer entry of the
// press); the engine feeds it token by token (query_aware: false) and must group it the same way: the same ids.
TEST(DecodingPress, PipelineGreedyIdsMatchKvpress) {
  std::ifstream in(std::filesystem::path(LOOM_SOURCE_DIR) / "tests" / "fixtures" / "accel" / "decoding.json");
  const nlohmann::json cases = nlohmann::json::parse(in)["pipeline_cases"];
  ASSERT_EQ(cases.size(), 2u);
  auto e = engine();
  for (const auto& c : cases) {
    SCOPED_TRACE(c["name"].get<std::string>());
    model::InferenceRequest r;
    r.input_ids = c["context_ids"].get<std::vector<int32_t>>();
    const auto question = c["question_ids"].get<std::vector<int32_t>>();
    r.input_ids.insert(r.input_ids.end(), question.begin(), question.end());
    r.question_tokens = static_cast<int64_t>(question.size());
    r.method.name = "decoding";
    r.method.params_json = c["params"].dump();
    r.sample_key = c["name"].get<std::string>();
    r.generation.max_new_tokens = c["max_new_tokens"].get<int32_t>();
    r.generation.ignore_eos = true;
    const model::InferenceResult result = e->run({r}).at(0);
    ASSERT_TRUE(result.ok) << result.error;
    EXPECT_EQ(result.output_ids, c["greedy"].get<std::vector<int32_t>>());
  }
}

TEST(DecodingPress, TargetRatioIsKvpressBisection) {
  EXPECT_EQ(decoding_target_ratio(40, 40), 0.0);
  EXPECT_EQ(decoding_target_ratio(10, 40), 0.0);
  for (int64_t total : {41, 68, 97, 1000, 4097}) {
    for (int64_t target : {1, 7, 32, 40}) {
      const double r = decoding_target_ratio(total, target);
      EXPECT_EQ(static_cast<int64_t>(static_cast<double>(total) * (1.0 - r)), target) << total << " " << target;
    }
  }
}

}  // namespace
}  // namespace loom::accel
