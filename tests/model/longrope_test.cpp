// LongRoPE (Phi-3-mini-128k, Phi-3.5-mini) against transformers on phi3_longrope (tools/fixtures/
// make_model_fixtures.py: original_max_position_embeddings 64, max 256). transformers picks the long factors for a
// forward call whose max(position)+1 exceeds 64, the short ones otherwise, and scales cos/sin by
// sqrt(1 + ln 4 / ln 64). Two prompts: expected.safetensors' 80 tokens (prefill and decode on the long factors) and
// expected_switch.safetensors' 40 tokens (prefill on the short factors; the greedy decode switches at position 64,
// the cached keys keeping their short-factor rotation, as in transformers' own decode loop).
// Checked: the frequencies and attention factor, every greedy step's fp32 logits (<= 1e-4) and tokens (through
// DecoderModel's decode table and through the engine's paged decode with batching), chunked prefill (every chunk
// uses the whole prompt's factors, i.e. transformers' one-shot prefill).
#include "model_card/model_card.h"
#include "model_test_util.h"
#include "rank/model/inference_engine.h"
#include "rank/model/weight_store.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <utility>
#include <vector>

namespace loom::model {
namespace {

using testing::fixture_dir;
using testing::to_vector;

constexpr const char* kModel = "phi3_longrope";
constexpr int64_t kSwitch = 64;  // original_max_position_embeddings
constexpr int64_t kSteps = 32;

struct Reference {
  std::vector<int64_t> input_ids;
  at::Tensor logits;       // [vocab]: the prompt's last position, one-shot prefill
  std::vector<int64_t> greedy;
  at::Tensor step_logits;  // [kSteps + 1, vocab]: logits, then each greedy decode step's
  at::Tensor chunked_logits;  // transformers fed the prompt in chunks (only where it does not cross the switch)
  int64_t chunk_size = 0;
  at::Tensor short_inv_freq, long_inv_freq;
  double attention_scaling = 0;
};

Reference load_reference(const std::string& file) {
  SafetensorsFile f(fixture_dir(kModel) / file);
  Reference r;
  r.input_ids = to_vector(f.load("input_ids", at::kLong, at::kCPU));
  r.logits = f.load("logits", at::kFloat, at::kCPU);
  r.greedy = to_vector(f.load("greedy", at::kLong, at::kCPU));
  r.step_logits = f.load("step_logits", at::kFloat, at::kCPU);
  if (f.find("chunked_logits") != nullptr) {
    r.chunked_logits = f.load("chunked_logits", at::kFloat, at::kCPU);
    r.chunk_size = to_vector(f.load("chunk_size", at::kLong, at::kCPU))[0];
  }
  r.short_inv_freq = f.load("short_inv_freq", at::kFloat, at::kCPU);
  r.long_inv_freq = f.load("long_inv_freq", at::kFloat, at::kCPU);
  r.attention_scaling = f.load("attention_scaling", at::kDouble, at::kCPU).item<double>();
  return r;
}

std::unique_ptr<DecoderModel> load_model(ModelCard card) {
  WeightStore weights(fixture_dir(kModel));
  return std::make_unique<DecoderModel>(std::move(card), weights, at::kFloat, at::kCPU);
}

std::unique_ptr<DecoderModel> load_model() { return load_model(read_model_card(fixture_dir(kModel))); }

// Prefill (one shot) then kSteps greedy decode steps through forward_decode (prepare_decode's table, a dense cache):
// the prompt's logits and every step's, [kSteps + 1, vocab].
at::Tensor decode_step_logits(DecoderModel& model, const std::vector<int64_t>& ids) {
  PolicyContext context;
  context.shape = model.shape();
  context.dtype = model.dtype();
  context.device = model.device();
  SequenceState state;
  state.policy = std::make_unique<FullCachePolicy>(context);
  for (int64_t l = 0; l < model.config().num_layers; ++l) {
    state.caches.push_back(make_layer_cache(model.config(), *state.policy, l));
  }
  state.observations.resize(model.config().num_layers);
  const int64_t n = static_cast<int64_t>(ids.size());
  std::vector<at::Tensor> logits = {
      model.forward(at::tensor(ids, at::kLong), {SequenceSegment{0, n, 0, n, true, &state}}, true)[0]};
  model.prepare_decode(n + kSteps);
  for (int64_t step = 0; step < kSteps; ++step) {
    DecodeStep decode;
    decode.token_ids = at::tensor(std::vector<int64_t>{logits.back().argmax().item<int64_t>()}, at::kLong);
    decode.positions = at::tensor(std::vector<int64_t>{n + step}, at::kLong);
    decode.slot_of = at::tensor(std::vector<int32_t>{-1}, at::kInt);
    decode.unpaged.emplace_back(0, &state);
    logits.push_back(model.forward_decode(decode)[0]);
  }
  return at::stack(logits);
}

InferenceRequest greedy_request(const std::vector<int64_t>& ids, int64_t chunk) {
  InferenceRequest request;
  request.sample_key = "s" + std::to_string(ids.size()) + "_" + std::to_string(chunk);
  request.input_ids.assign(ids.begin(), ids.end());
  request.generation.max_new_tokens = kSteps;
  request.generation.prefill_chunk_size = chunk;
  return request;
}

std::vector<int32_t> until_eos(const std::vector<int64_t>& greedy, const ModelCard& config) {
  std::vector<int32_t> out;
  for (int64_t id : greedy) {
    if (std::find(config.eos_token_ids.begin(), config.eos_token_ids.end(), id) != config.eos_token_ids.end()) break;
    out.push_back(static_cast<int32_t>(id));
  }
  return out;
}

TEST(LongRope, FrequenciesAndAttentionFactorEqualTransformers) {
  c10::InferenceMode guard;
  const Reference ref = load_reference("expected.safetensors");
  const ModelCard card = read_model_card(fixture_dir(kModel));
  RotaryEmbedding rope(card, at::kCPU);
  EXPECT_TRUE(at::equal(rope.inv_freq(1), ref.short_inv_freq));
  EXPECT_TRUE(at::equal(rope.inv_freq(kSwitch), ref.short_inv_freq));
  EXPECT_TRUE(at::equal(rope.inv_freq(kSwitch + 1), ref.long_inv_freq));
  EXPECT_TRUE(at::equal(rope.inv_freq(256), ref.long_inv_freq));
  EXPECT_DOUBLE_EQ(rope.attention_scaling(), ref.attention_scaling);
  // The decode table: row p as a one-token call at position p (seq_len p + 1) computes it.
  const auto [cos, sin] = rope.step_cos_sin(100, at::kFloat);
  ASSERT_EQ(cos.size(0), 100);
  for (int64_t p : {int64_t{0}, kSwitch - 1, kSwitch, int64_t{99}}) {
    const auto [c, s] = rope.cos_sin(p, 1, p + 1, at::kFloat);
    EXPECT_TRUE(at::equal(cos.narrow(0, p, 1), c)) << "position " << p;
    EXPECT_TRUE(at::equal(sin.narrow(0, p, 1), s)) << "position " << p;
  }
  EXPECT_FALSE(at::equal(cos.narrow(0, kSwitch, 1), rope.cos_sin(kSwitch, 1, kSwitch, at::kFloat).first));
}

// Every greedy step's logits: the long prompt on the long factors throughout; the short prompt switching at position
// 64 (step 25 feeds it: logits rows 0..24 short, 25.. long, over keys cached with the short factors).
TEST(LongRope, DecodeStepLogitsMatchTransformersAcrossTheSwitch) {
  c10::InferenceMode guard;
  auto model = load_model();
  for (const char* file : {"expected.safetensors", "expected_switch.safetensors"}) {
    const Reference ref = load_reference(file);
    const at::Tensor got = decode_step_logits(*model, ref.input_ids);
    ASSERT_EQ(got.sizes(), ref.step_logits.sizes()) << file;
    const at::Tensor per_step = (got - ref.step_logits).abs().amax(1);
    const double worst = per_step.max().item<double>();
    std::printf("%s %s: prompt %zu, fp32 step logits (prefill + %lld decode steps) max |delta| %.2e\n", kModel, file,
                ref.input_ids.size(), static_cast<long long>(kSteps), worst);
    EXPECT_LE(worst, 1e-4) << file << ": per step " << per_step;
    EXPECT_EQ(to_vector(got.narrow(0, 0, kSteps).argmax(1)), ref.greedy) << file;
  }
  // The control: the same model never switching (short factors throughout, same attention factor) agrees with
  // transformers up to the step feeding position 64 and is clearly off from there, so the test sees the switch.
  ModelCard never_switching = read_model_card(fixture_dir(kModel));
  never_switching.rope.attention_factor = load_reference("expected.safetensors").attention_scaling;
  never_switching.rope.original_max_position_embeddings = 1 << 20;
  auto control = load_model(never_switching);
  const Reference ref = load_reference("expected_switch.safetensors");
  const int64_t switch_row = kSwitch - static_cast<int64_t>(ref.input_ids.size()) + 1;  // 25
  const at::Tensor delta = (decode_step_logits(*control, ref.input_ids) - ref.step_logits).abs().amax(1);
  EXPECT_LE(delta.narrow(0, 0, switch_row).max().item<double>(), 1e-4);
  EXPECT_GE(delta.narrow(0, switch_row, kSteps + 1 - switch_row).min().item<double>(), 1e-3) << delta;
  std::printf("never-switching control: step logits max |delta| %.2e before position 64, >= %.2e from it\n",
              delta.narrow(0, 0, switch_row).max().item<double>(),
              delta.narrow(0, switch_row, kSteps + 1 - switch_row).min().item<double>());
}

// Chunked prefill: every chunk takes the whole prompt's factors, so the 80-token prompt chunked at any size (chunks
// ending below, at and above the switch) equals transformers' one-shot prefill. (transformers' own chunked prefill
// picks each chunk's factors by its end and differs, ~3e-3 here: make_model_fixtures.py prints it.) The 40-token
// prompt never crosses the switch: its chunks equal transformers' chunked prefill too.
TEST(LongRope, ChunkedPrefillEqualsTheOneShotPrefill) {
  c10::InferenceMode guard;
  auto model = load_model();
  const Reference long_prompt = load_reference("expected.safetensors");
  for (int64_t chunk : {1, 5, 16, 63, 64, 65, 1 << 20}) {
    const at::Tensor logits = testing::prompt_logits(*model, long_prompt.input_ids, chunk);
    EXPECT_LE((logits - long_prompt.logits).abs().max().item<double>(), 1e-4) << "chunk " << chunk;
  }
  const Reference short_prompt = load_reference("expected_switch.safetensors");
  ASSERT_GT(short_prompt.chunk_size, 0);
  const at::Tensor chunked = testing::prompt_logits(*model, short_prompt.input_ids, short_prompt.chunk_size);
  EXPECT_LE((chunked - short_prompt.chunked_logits).abs().max().item<double>(), 1e-4);
  EXPECT_LE((chunked - short_prompt.logits).abs().max().item<double>(), 1e-4);
}

// The engine (paged decode reading prepare_decode's table, continuous batching): both prompts at once and chunked,
// each sequence switching at its own position.
TEST(LongRope, EngineGreedyTokensMatchTransformersBatchedAndChunked) {
  const ModelCard config = read_model_card(fixture_dir(kModel));
  const Reference long_prompt = load_reference("expected.safetensors");
  const Reference short_prompt = load_reference("expected_switch.safetensors");
  EngineOptions options;
  options.model_dir = fixture_dir(kModel);
  options.device = "cpu";
  options.dtype = "float32";
  options.max_batch_size = 4;
  auto engine = create_engine(options, nullptr, nullptr);
  const auto results =
      engine->run({greedy_request(short_prompt.input_ids, 4096), greedy_request(long_prompt.input_ids, 4096),
                   greedy_request(short_prompt.input_ids, 7), greedy_request(long_prompt.input_ids, 30)});
  ASSERT_EQ(results.size(), 4u);
  for (size_t i = 0; i < results.size(); ++i) {
    ASSERT_TRUE(results[i].ok) << results[i].error;
    const Reference& ref = i % 2 == 0 ? short_prompt : long_prompt;
    EXPECT_EQ(results[i].output_ids, until_eos(ref.greedy, config)) << results[i].sample_key;
  }
}

}  // namespace
}  // namespace loom::model
