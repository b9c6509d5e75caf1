// finch, qfilter, duo_attention, compression_ratio_decoding and prefill_decoding against kvpress 0.5.5 on the same
// inputs: tests/fixtures/accel/kvpress_extra.json (tools/fixtures/make_kvpress_extra_fixtures.py) and the filter /
// pattern files it wrote under tests/fixtures/accel/method_files. Prefill presses: the kept positions of every KV
// head (Finch's re-rotated keys too) from finish_prefill on the SplitMix64 inputs. Decode-time presses: the prefill's
// kept positions, every compression (step, layer, length, kept positions) and the greedy ids, step by step and
// through the engine (paged, batched with a full-cache request and alone). Bad parameters name their key.
#include "fixture_inputs.h"

#include "common/error.h"
#include "rank/accel/duo_attention_policy.h"
#include "rank/accel/registry.h"
#include "rank/accel/varlen_kv_cache.h"
#include "rank/model/decode_compression.h"
#include "rank/model/decoder_model.h"
#include "rank/model/generation.h"
#include "rank/model/inference_engine.h"
#include "rank/model/weight_store.h"

#include <c10/core/InferenceMode.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

namespace loom::accel::testing {
namespace {

const std::filesystem::path kModel =
    std::filesystem::path(LOOM_SOURCE_DIR) / "tests" / "fixtures" / "models" / "llama3_tiny";

// The fixture's file parameters are relative to the source tree.
nlohmann::json absolute_params(nlohmann::json params) {
  for (const char* key : {"filters_path", "pattern_path"}) {
    if (params.contains(key)) params[key] = std::string(LOOM_SOURCE_DIR) + "/" + params[key].get<std::string>();
  }
  return params;
}

std::unique_ptr<model::AttentionPolicy> policy_of(const nlohmann::json& c, int64_t heads, int64_t kv_heads,
                                                  int64_t dim, int64_t layers, int64_t total) {
  MethodSpec spec;
  spec.name = c["method"].get<std::string>();
  spec.params_json = absolute_params(c["params"]).dump();
  model::PolicyContext context = make_context(heads, kv_heads, dim, layers);
  context.reserve_tokens = total + 4;
  auto policy = resolve_policy(spec)->create(context);
  policy->begin_sequence(total);
  return policy;
}

std::unique_ptr<model::LayerKVCache> prefill_layer(model::AttentionPolicy& policy, const Inputs& in, int64_t layer,
                                                   double rope_theta) {
  const int64_t total = in.keys.size(1);
  const int64_t dim = in.keys.size(2);
  model::PrefillSummary summary;
  summary.layer = layer;
  summary.prompt_length = total;
  const int64_t w = std::min(policy.observation_window(), total);
  if (w > 0) summary.window_queries = in.queries.narrow(1, total - w, w);
  summary.rope_inv_freq =
      1.0 / at::pow(rope_theta, at::arange(0, dim, 2, at::kDouble) / static_cast<double>(dim)).to(at::kFloat);
  return policy.finish_prefill(dense_cache(in.keys, in.values), summary);
}

TEST(KvpressExtra, PrefillPressesMatchKvpress) {
  c10::InferenceMode guard;
  const nlohmann::json fixture = load_fixture("kvpress_extra.json");
  ASSERT_GE(fixture["prefill_cases"].size(), 12u);
  for (const auto& c : fixture["prefill_cases"]) {
    SCOPED_TRACE(c["name"].get<std::string>());
    const auto shape = c["shape"].get<std::vector<int64_t>>();
    const int64_t heads = shape[0], kv_heads = shape[1], total = shape[2], dim = shape[3];
    const int64_t layers = c["layers"].get<int64_t>();
    auto policy = policy_of(c, heads, kv_heads, dim, layers, total);
    if (c["method"] == "duo_attention") {
      for (int64_t layer = 0; layer < layers; ++layer) {
        const Inputs in = make_inputs(c["seed"].get<uint64_t>() + layer, heads, kv_heads, total, dim);
        auto cache = prefill_layer(*policy, in, layer, 10000.0);
        const auto expected = c["kept_layers"][layer].get<std::vector<std::vector<int64_t>>>();
        auto* varlen = dynamic_cast<PerHeadVarlenCache*>(cache.get());
        for (int64_t h = 0; h < kv_heads; ++h) {
          if (varlen == nullptr) {
            EXPECT_EQ(static_cast<int64_t>(expected[h].size()), total) << "layer " << layer << " head " << h;
          } else {
            EXPECT_EQ(to_lists({varlen->positions(h)})[0], expected[h]) << "layer " << layer << " head " << h;
          }
        }
      }
      continue;
    }
    const Inputs in = make_inputs(c["seed"].get<uint64_t>(), heads, kv_heads, total, dim);
    auto cache = prefill_layer(*policy, in, c["layer"].get<int64_t>(), c.value("rope_theta", 10000.0));
    auto* varlen = dynamic_cast<PerHeadVarlenCache*>(cache.get());
    ASSERT_NE(varlen, nullptr) << "the policy did not compress";
    const auto kept = c["kept"].get<std::vector<std::vector<int64_t>>>();
    if (c.contains("rerotated_keys")) {  // Finch re-rotates: positions 0 .. n-1, decoding from n
      EXPECT_TRUE(policy->renumbers_positions());
      EXPECT_EQ(varlen->logical_length(), static_cast<int64_t>(kept[0].size()));
      for (int64_t h = 0; h < kv_heads; ++h) {
        const at::Tensor index = at::tensor(kept[h], at::kLong);
        EXPECT_TRUE(at::equal(varlen->head_values(h), in.values[h].index_select(0, index))) << "head " << h;
        const at::Tensor expected =
            at::tensor(c["rerotated_keys"][h].get<std::vector<float>>()).reshape({-1, dim});
        EXPECT_TRUE(at::allclose(varlen->head_keys(h), expected, 1e-5, 1e-5)) << "re-rotated keys, head " << h;
        EXPECT_GT((in.keys[h].index_select(0, index) - expected).abs().max().item<float>(), 1e-2);
      }
      continue;
    }
    for (int64_t h = 0; h < kv_heads; ++h) {
      EXPECT_EQ(to_lists({varlen->positions(h)})[0], kept[h]) << "head " << h;
    }
  }
}

TEST(KvpressExtra, DuoStreamingMaskFollowsKvpressRounding) {
  // round(4 * 0.625) = round(2.5) = 2 in Python (half to even); the two lowest scores stream.
  const at::Tensor scores = at::tensor(std::vector<double>{0.9, 0.1, 0.5, 0.2}, at::kDouble).reshape({2, 2});
  const at::Tensor mask = duo_streaming_mask(scores, 0.625);
  EXPECT_EQ(to_lists({mask.reshape({4}).to(at::kLong)})[0], (std::vector<int64_t>{0, 1, 0, 1}));
  EXPECT_EQ(to_lists({duo_streaming_positions(10, 2, 3)})[0], (std::vector<int64_t>{0, 1, 7, 8, 9}));
  EXPECT_EQ(duo_streaming_positions(10, 2, 0).size(0), 10);  // keys[2:-0] is empty in Python
  EXPECT_EQ(duo_streaming_positions(4, 2, 3).size(0), 4);
}

model::InferenceRequest request_of(const nlohmann::json& c) {
  model::InferenceRequest r;
  r.input_ids = c["prompt_ids"].get<std::vector<int32_t>>();
  r.method.name = c["method"].get<std::string>();
  r.method.params_json = c["params"].dump();
  r.method.label = c["name"].get<std::string>();
  r.sample_key = r.method.label;
  r.generation.max_new_tokens = c["max_new_tokens"].get<int32_t>();
  r.generation.ignore_eos = true;
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

// Prefill, then greedy decode steps through the sequence's own caches with the engine's after_decode_step; the
// original position of every row is tracked (starting from the prefill's kept positions).
std::vector<Compression> run_steps(model::DecoderModel& m, const nlohmann::json& c, std::vector<int32_t>& greedy,
                                   std::vector<std::vector<std::vector<int64_t>>>& prefill_kept) {
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
  std::vector<std::vector<std::vector<int64_t>>> positions(static_cast<size_t>(layers));
  for (int64_t layer = 0; layer < layers; ++layer) {
    const auto* varlen = dynamic_cast<const PerHeadVarlenCache*>(seq.state.caches[static_cast<size_t>(layer)].get());
    for (int64_t h = 0; h < kv_heads; ++h) {
      positions[layer].push_back(varlen != nullptr ? to_lists({varlen->positions(h)})[0]
                                                   : to_lists({at::arange(all.size(0), at::kLong)})[0]);
    }
  }
  prefill_kept = positions;
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
      Compression e{step, static_cast<int64_t>(layer), static_cast<int64_t>(positions[layer][0].size()), {}};
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

TEST(KvpressExtra, DecodingPressesMatchKvpress) {
  c10::InferenceMode guard;
  model::WeightStore weights(kModel);
  model::DecoderModel m(model::read_model_card(kModel), weights, at::kFloat, at::kCPU, nullptr);
  m.prepare_decode(512);
  const nlohmann::json cases = load_fixture("kvpress_extra.json")["decoding_cases"];
  ASSERT_EQ(cases.size(), 4u);
  for (const auto& c : cases) {
    SCOPED_TRACE(c["name"].get<std::string>());
    std::vector<Compression> expected;
    for (const auto& e : c["compressions"]) {
      expected.push_back({e["step"].get<int64_t>(), e["layer"].get<int64_t>(), e["length"].get<int64_t>(),
                          e["kept"].get<std::vector<std::vector<int64_t>>>()});
    }
    std::vector<int32_t> greedy;
    std::vector<std::vector<std::vector<int64_t>>> prefill_kept;
    const std::vector<Compression> got = run_steps(m, c, greedy, prefill_kept);
    if (c.contains("prefill_kept")) {
      EXPECT_EQ(prefill_kept, c["prefill_kept"].get<std::vector<std::vector<std::vector<int64_t>>>>());
    }
    ASSERT_EQ(got.size(), expected.size());
    for (size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i], expected[i]) << "compression " << i;
    EXPECT_EQ(greedy, c["greedy"].get<std::vector<int32_t>>());
  }
}

TEST(KvpressExtra, EngineGreedyIdsMatchKvpress) {
  model::EngineOptions options;
  options.model_dir = kModel;
  options.device = "cpu";
  options.dtype = "float32";
  options.max_batch_size = 8;
  options.kv_page_size = 16;
  auto e = model::create_engine(options, nullptr, &resolve_policy);
  const nlohmann::json cases = load_fixture("kvpress_extra.json")["decoding_cases"];
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
    ASSERT_TRUE(results[2 * i].ok) << results[2 * i].error;
    ASSERT_TRUE(results[2 * i + 1].ok) << results[2 * i + 1].error;
    EXPECT_EQ(results[2 * i].output_ids, cases[i]["greedy"].get<std::vector<int32_t>>());
    differ += results[2 * i].output_ids != results[2 * i + 1].output_ids;
    EXPECT_EQ(e->run({batch[2 * i]}).at(0).output_ids, results[2 * i].output_ids);
  }
  EXPECT_GT(differ, 0);
}

std::string error_of(const std::string& method, const std::string& params) {
  MethodSpec spec;
  spec.name = method;
  spec.params_json = params;
  try {
    auto factory = resolve_policy(spec);
    auto policy = factory->create(make_context(4, 2, 16, 2));
    policy->begin_sequence(64);
    Inputs in = make_inputs(3, 4, 2, 64, 16);
    prefill_layer(*policy, in, 0, 10000.0);
  } catch (const InputError& e) {
    return std::string(e.key()) + " | " + e.what();
  }
  return "";
}

TEST(KvpressExtra, BadParametersNameTheirKey) {
  const std::string files = std::string(LOOM_SOURCE_DIR) + "/tests/fixtures/accel/method_files/";
  EXPECT_NE(error_of("qfilter", "{}").find("params.filters_path"), std::string::npos);
  EXPECT_NE(error_of("qfilter", R"({"filters_path": "/nonexistent/q"})").find("params.filters_path"),
            std::string::npos);
  // filters of another shape (3 layers, 4 KV heads) than the model (2 layers, 2 KV heads)
  const std::string wrong = error_of("qfilter", R"({"filters_path": ")" + files + R"(qfilter_3x4"})");
  EXPECT_NE(wrong.find("params.filters_path"), std::string::npos) << wrong;
  EXPECT_NE(wrong.find("[2, 2, 16]"), std::string::npos) << wrong;
  EXPECT_NE(error_of("duo_attention", "{}").find("params.pattern_path"), std::string::npos);
  EXPECT_NE(error_of("duo_attention", R"({"pattern_path": "/nonexistent"})").find("params.pattern_path"),
            std::string::npos);
  const std::string duo = error_of("duo_attention", R"({"pattern_path": ")" + files + R"(duo_pattern_4x4"})");
  EXPECT_NE(duo.find("params.pattern_path"), std::string::npos) << duo;
  EXPECT_NE(error_of("duo_attention", R"({"pattern_path": "x", "head_compression_ratio": 1.5})")
                .find("params.head_compression_ratio"),
            std::string::npos);
  EXPECT_NE(error_of("finch", R"({"window_size": 16, "chunk_length": 32})").find("params.chunk_length"),
            std::string::npos);
  EXPECT_NE(error_of("compression_ratio_decoding", R"({"target_compression_ratio": 1})")
                .find("params.target_compression_ratio"),
            std::string::npos);
  EXPECT_NE(error_of("prefill_decoding", R"({"scorer": "snapkv"})").find("params.scorer"), std::string::npos);
  EXPECT_NE(error_of("prefill_decoding", R"({"target_size": 0})").find("params.target_size"), std::string::npos);
}

}  // namespace
}  // namespace loom::accel::testing
