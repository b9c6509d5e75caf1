// The local NLI classifier (nli/deberta_nli.h) against transformers 4.44.2 on two tiny random
// DebertaV2ForSequenceClassification models (tests/fixtures/nli/, tools/fixtures/make_deberta_nli_fixtures.py): the
// pair encoding's ids and token type ids equal to DebertaV2TokenizerFast's (the pipeline's), each text's ids equal,
// logits within 1e-4 (float32), the pipeline's label; and the errors for a bad model directory name the file and key.
#include "common/error.h"
#include "nli/deberta_nli.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;
using nlohmann::json;

namespace loom::nli {
namespace {

const fs::path kFixtures = fs::path(LOOM_SOURCE_DIR) / "tests/fixtures/nli";

json fixture() {
  std::ifstream in(kFixtures / "deberta_nli.json");
  return json::parse(in);
}

TEST(DebertaNli, LogitsLabelsAndIdsMatchTransformers) {
  const json f = fixture();
  double worst = 0;
  int pairs = 0;
  for (const auto& [name, model] : f["models"].items()) {
    DebertaNli nli(kFixtures / name, "cpu");
    for (const json& pair : model["pairs"]) {
      const std::string premise = pair["premise"], hypothesis = pair["hypothesis"];
      const PairEncoding enc = nli.encode(premise, hypothesis);
      EXPECT_EQ(enc.ids, pair["input_ids"].get<std::vector<int32_t>>()) << name << ": " << premise;
      EXPECT_EQ(enc.token_types, pair["token_type_ids"].get<std::vector<int32_t>>()) << name << ": " << premise;
      const std::vector<float> logits = nli.logits(premise, hypothesis);
      const std::vector<double> expected = pair["logits"];
      ASSERT_EQ(logits.size(), expected.size());
      for (size_t i = 0; i < logits.size(); ++i) {
        EXPECT_NEAR(logits[i], expected[i], 1e-4) << name << ": " << premise;
        worst = std::max(worst, std::abs(logits[i] - expected[i]));
      }
      EXPECT_EQ(nli.label(premise, hypothesis), pair["label"].get<std::string>()) << name << ": " << premise;
      ++pairs;
    }
  }
  std::printf("deberta_nli parity: %d pairs, max |delta logit| %.3g\n", pairs, worst);
}

TEST(DebertaNli, TokenIdsMatchTheFastTokenizer) {
  const json f = fixture();
  const DebertaNli nli(kFixtures / "tiny-deberta-nli", "cpu");
  int same = 0;
  for (const json& t : f["texts"]) {
    const std::vector<int32_t> ids = nli.encode_text(t["text"].get<std::string>());
    EXPECT_EQ(ids, t["ids"].get<std::vector<int32_t>>()) << t["text"];
    same += ids == t["ids"].get<std::vector<int32_t>>();
  }
  std::printf("deberta_nli tokenizer: %d of %zu texts with identical ids\n", same, f["texts"].size());
}

class DebertaNliErrors : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("deberta_nli_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::copy(kFixtures / "tiny-deberta-nli", dir_);
    std::ifstream in(dir_ / "config.json");
    config_ = json::parse(in);
  }
  void TearDown() override { fs::remove_all(dir_); }
  void write(const json& config) { std::ofstream(dir_ / "config.json") << config.dump(1); }
  // The InputError of loading the directory with `config`.
  InputError error_with(const json& config, const std::string& device = "cpu") {
    write(config);
    try {
      DebertaNli nli(dir_, device);
    } catch (const InputError& e) {
      return e;
    }
    ADD_FAILURE() << "no InputError";
    return InputError("", 0, "", "");
  }
  fs::path dir_;
  json config_;
};

TEST_F(DebertaNliErrors, UnsupportedConfigurationsNameTheKey) {
  const auto with = [&](const char* key, const json& value) {
    json c = config_;
    c[key] = value;
    return c;
  };
  struct Case {
    const char* key;
    json value;
  };
  for (const Case& c : {Case{"model_type", "bert"}, Case{"conv_kernel_size", 3}, Case{"pos_att_type", {"p2p"}},
                        Case{"hidden_act", "swish"}, Case{"embedding_size", 16}, Case{"pooler_hidden_size", 16},
                        Case{"hidden_size", -1}, Case{"num_attention_heads", 5}, Case{"problem_type", "regression"},
                        Case{"id2label", {{"0", "yes"}, {"1", "no"}, {"2", "maybe"}}},
                        Case{"id2label", {{"0", "entailment"}, {"3", "x"}}}, Case{"id2label", {{"0", "entailment"}}}}) {
    const InputError e = error_with(with(c.key, c.value));
    EXPECT_EQ(e.key(), c.key) << c.value << ": " << e.what();
    EXPECT_NE(std::string(e.what()).find("config.json"), std::string::npos) << e.what();
  }
  json missing = config_;
  missing.erase("vocab_size");
  EXPECT_EQ(error_with(missing).key(), "vocab_size");
  EXPECT_EQ(error_with(config_, "tpu").key(), "judge.nli.device");
}

TEST_F(DebertaNliErrors, AMissingTensorOrFileIsNamed) {
  json more = config_;
  more["num_hidden_layers"] = config_["num_hidden_layers"].get<int>() + 1;  // a layer the weights lack
  const InputError e = error_with(more);
  EXPECT_NE(std::string(e.what()).find("deberta.encoder.layer.3."), std::string::npos) << e.what();
  EXPECT_NE(std::string(e.what()).find("model.safetensors"), std::string::npos) << e.what();
  fs::remove(dir_ / "spm.model");
  const InputError spm = error_with(config_);
  EXPECT_NE(std::string(spm.what()).find("spm.model"), std::string::npos) << spm.what();
}

}  // namespace
}  // namespace loom::nli
