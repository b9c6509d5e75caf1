// Parity of the embedded tiny model (models/tiny-loom) between Hugging Face transformers and loom_mpi, on the
// fixtures written by tools/tiny_model/make_fixtures.py (tests/fixtures/tiny_model/greedy.json): the C++ tokenizer
// gives the same prompt ids and decodes the same text, the last prompt position has the same top-5 logits, and the
// engine's greedy continuation (fp32, CPU) is the same token sequence.
#include "model_card/model_card.h"
#include "model_test_util.h"
#include "rank/model/inference_engine.h"
#include "rank/model/weight_store.h"
#include "text/tokenizer.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>

namespace loom::model {
namespace {

std::filesystem::path tiny_model_dir() { return std::filesystem::path(LOOM_SOURCE_DIR) / "models" / "tiny-loom"; }

const nlohmann::json& fixture() {
  static const nlohmann::json data = [] {
    std::ifstream in(std::filesystem::path(LOOM_SOURCE_DIR) / "tests" / "fixtures" / "tiny_model" / "greedy.json");
    return nlohmann::json::parse(in);
  }();
  return data;
}

std::vector<std::string> case_names() {
  std::vector<std::string> names;
  for (const auto& c : fixture().at("cases")) names.push_back(c.at("name").get<std::string>());
  return names;
}

const nlohmann::json& find_case(const std::string& name) {
  for (const auto& c : fixture().at("cases")) {
    if (c.at("name") == name) return c;
  }
  throw std::runtime_error("no fixture case " + name);
}

class TinyModelParity : public ::testing::TestWithParam<std::string> {};

TEST_P(TinyModelParity, TokenizerMatchesPythonTokenizers) {
  const auto& c = find_case(GetParam());
  auto tokenizer = text::load_tokenizer(tiny_model_dir());
  const auto ids = tokenizer->encode(c.at("prompt").get<std::string>(), true);
  EXPECT_EQ(ids, c.at("prompt_ids").get<std::vector<int32_t>>());
  EXPECT_EQ(tokenizer->decode(c.at("output_ids").get<std::vector<int32_t>>(), true),
            c.at("output_text").get<std::string>());
}

TEST_P(TinyModelParity, LastPositionTopLogitsMatchTransformers) {
  c10::InferenceMode guard;
  const auto& c = find_case(GetParam());
  WeightStore weights(tiny_model_dir());
  DecoderModel model(read_model_card(tiny_model_dir()), weights, at::kFloat, at::kCPU);
  at::Tensor logits = testing::prompt_logits(model, c.at("prompt_ids").get<std::vector<int64_t>>(), 1 << 20);
  for (const auto& pair : c.at("last_logits_top5")) {
    const int64_t id = pair.at(0).get<int64_t>();
    EXPECT_NEAR(logits[id].item<double>(), pair.at(1).get<double>(), 1e-3) << GetParam() << " token " << id;
  }
  EXPECT_EQ(logits.argmax().item<int64_t>(), c.at("last_logits_top5").at(0).at(0).get<int64_t>());
}

TEST_P(TinyModelParity, GreedyOutputMatchesTransformers) {
  const auto& c = find_case(GetParam());
  EngineOptions options;
  options.model_dir = tiny_model_dir();
  options.device = "cpu";
  options.dtype = "float32";
  auto engine = create_engine(options, nullptr, nullptr);
  InferenceRequest request;
  request.sample_key = GetParam();
  request.input_ids = c.at("prompt_ids").get<std::vector<int32_t>>();
  request.generation.max_new_tokens = fixture().at("max_new_tokens").get<int32_t>();
  auto results = engine->run({request});
  ASSERT_EQ(results.size(), 1u);
  ASSERT_TRUE(results[0].ok) << results[0].error;
  // transformers keeps the EOS it stopped at; the engine drops it.
  std::vector<int32_t> want = c.at("output_ids").get<std::vector<int32_t>>();
  const int32_t eos = fixture().at("eos_token_id").get<int32_t>();
  want.erase(std::find(want.begin(), want.end(), eos), want.end());
  EXPECT_EQ(results[0].output_ids, want) << GetParam();
  EXPECT_EQ(results[0].text, c.at("output_text").get<std::string>()) << GetParam();
}

INSTANTIATE_TEST_SUITE_P(Prompts, TinyModelParity, ::testing::ValuesIn(case_names()));

}  // namespace
}  // namespace loom::model
