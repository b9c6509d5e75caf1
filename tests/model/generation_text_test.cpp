// Output text through the model's tokenizer (llama3_tiny has a trained byte-level BPE tokenizer.json): text equals
// decode(output_ids, skip_special_tokens), stop strings cut the text at their first occurrence and end generation,
// request EOS ids end generation and are dropped.
#include "model_test_util.h"
#include "rank/model/inference_engine.h"
#include "text/tokenizer.h"

#include <gtest/gtest.h>

namespace loom::model {
namespace {

std::unique_ptr<InferenceEngine> tiny_engine() {
  EngineOptions options;
  options.model_dir = testing::fixture_dir("llama3_tiny");
  options.device = "cpu";
  return create_engine(options, nullptr, nullptr);
}

InferenceRequest hello_request(const text::Tokenizer& tokenizer, int32_t steps) {
  InferenceRequest request;
  request.input_ids = tokenizer.encode("The most important thing about startups is", true);
  request.generation.max_new_tokens = steps;
  request.generation.do_sample = true;  // random weights: sampling gives varied text to cut
  request.generation.seed = 3;
  return request;
}

TEST(GenerationText, TextIsTheDecodedOutput) {
  auto tokenizer = text::load_tokenizer(testing::fixture_dir("llama3_tiny"));
  auto engine = tiny_engine();
  auto result = engine->run({hello_request(*tokenizer, 20)}).at(0);
  ASSERT_TRUE(result.ok) << result.error;
  EXPECT_EQ(result.text, tokenizer->decode(result.output_ids, true));
  EXPECT_FALSE(result.text.empty());
  EXPECT_GT(result.cost.prefill_seconds, 0.0);
  EXPECT_GT(result.cost.peak_memory_bytes, 0);
}

TEST(GenerationText, StopStringCutsTextAndEndsGeneration) {
  auto tokenizer = text::load_tokenizer(testing::fixture_dir("llama3_tiny"));
  auto engine = tiny_engine();
  auto free_run = engine->run({hello_request(*tokenizer, 24)}).at(0);
  ASSERT_TRUE(free_run.ok) << free_run.error;
  ASSERT_GT(free_run.text.size(), 8u);
  // Stop at a piece from the middle of the unconstrained output.
  const std::string stop = free_run.text.substr(free_run.text.size() / 2, 3);
  const size_t cut = free_run.text.find(stop);
  InferenceRequest request = hello_request(*tokenizer, 24);
  request.generation.stop_strings = {"never appears \x01", stop};
  auto stopped = engine->run({request}).at(0);
  ASSERT_TRUE(stopped.ok) << stopped.error;
  EXPECT_EQ(stopped.text, free_run.text.substr(0, cut));
  EXPECT_LT(stopped.output_ids.size(), free_run.output_ids.size());
  EXPECT_GE(tokenizer->decode(stopped.output_ids, true).size(), cut);
}

TEST(GenerationText, RequestEosIdsEndGeneration) {
  auto tokenizer = text::load_tokenizer(testing::fixture_dir("llama3_tiny"));
  auto engine = tiny_engine();
  auto free_run = engine->run({hello_request(*tokenizer, 12)}).at(0);
  ASSERT_GE(free_run.output_ids.size(), 5u);
  InferenceRequest request = hello_request(*tokenizer, 12);
  request.generation.eos_token_ids = {free_run.output_ids[4]};
  auto stopped = engine->run({request}).at(0);
  const auto first = std::find(free_run.output_ids.begin(), free_run.output_ids.end(), free_run.output_ids[4]);
  EXPECT_EQ(stopped.output_ids, std::vector<int32_t>(free_run.output_ids.begin(), first));
}

}  // namespace
}  // namespace loom::model
