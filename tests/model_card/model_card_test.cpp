// The model card, without torch: the fixture models' shapes (Llama, Mistral, Qwen2, Qwen3, the tiny-loom model),
// the derived figures (head_dim, linear parameters, trained context), the raw text, and one InputError per bad key
// that names config.json (or generation_config.json) and the key, in words.
#include "common/error.h"
#include "model_card/model_card.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace loom::model {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

fs::path source_dir() { return fs::path(LOOM_SOURCE_DIR); }
fs::path fixture(const std::string& name) { return source_dir() / "tests" / "fixtures" / "models" / name; }

std::string file_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(ModelCard, ReadsTheLlamaShapes) {
  const ModelCard card = read_model_card(fixture("llama3_tiny"));
  EXPECT_EQ(card.model_type, "llama");
  EXPECT_EQ(card.class_names, (std::vector<std::string>{"LlamaForCausalLM"}));
  EXPECT_EQ(card.hidden_size, 64);
  EXPECT_EQ(card.intermediate_size, 128);
  EXPECT_EQ(card.num_layers, 2);
  EXPECT_EQ(card.num_heads, 4);
  EXPECT_EQ(card.num_kv_heads, 2);
  EXPECT_EQ(card.head_dim, 16);
  EXPECT_EQ(card.vocab_size, 512);
  EXPECT_EQ(card.max_position_embeddings, 32768);
  EXPECT_EQ(card.torch_dtype, "bfloat16");  // 5.x "dtype"
  EXPECT_EQ(card.rope.type, "llama3");
  EXPECT_EQ(card.rope.params_key, "rope_parameters");
  EXPECT_EQ(card.rope.original_max_position_embeddings, 64);
  EXPECT_TRUE(card.tie_word_embeddings);
  EXPECT_FALSE(card.qkv_bias);
  EXPECT_FALSE(card.qk_norm);
  EXPECT_EQ(card.config_file, fixture("llama3_tiny") / "config.json");
  EXPECT_EQ(trained_context(card), 32768);

  const ModelCard linear = read_model_card(fixture("llama_linear"));  // 4.x layout: torch_dtype, rope_scaling
  EXPECT_EQ(linear.torch_dtype, "bfloat16");
  EXPECT_EQ(linear.rope.params_key, "rope_scaling");
  EXPECT_EQ(linear.num_kv_heads, 4);
  EXPECT_EQ(trained_context(linear), 512);  // factor 2 x 256
}

TEST(ModelCard, ReadsTheQwenAndMistralShapes) {
  const ModelCard qwen2 = read_model_card(fixture("qwen2_tiny"));
  EXPECT_EQ(qwen2.class_names.front(), "Qwen2ForCausalLM");
  EXPECT_EQ(qwen2.head_dim, 16);  // no head_dim key: hidden_size / num_attention_heads
  EXPECT_TRUE(qwen2.qkv_bias);
  EXPECT_FALSE(qwen2.o_bias);
  EXPECT_EQ(qwen2.torch_dtype, "float16");
  const ModelCard yarn = read_model_card(fixture("qwen2_yarn"));
  EXPECT_EQ(yarn.rope.type, "yarn");
  EXPECT_EQ(trained_context(yarn), 128);  // factor 4 x 32
  const ModelCard qwen3 = read_model_card(fixture("qwen3_tiny"));
  EXPECT_EQ(qwen3.model_type, "qwen3");
  EXPECT_EQ(qwen3.head_dim, 32);  // explicit, != hidden_size / num_attention_heads
  EXPECT_TRUE(qwen3.qk_norm);
  EXPECT_EQ(qwen3.num_kv_heads, 2);
  const ModelCard mistral = read_model_card(fixture("mistral_tiny"));
  EXPECT_EQ(mistral.model_type, "mistral");
  EXPECT_EQ(mistral.vocab_size, 256);
  EXPECT_EQ(trained_context(read_model_card(fixture("llama_dynamic"))), 0);  // dynamic NTK: no limit
}

TEST(ModelCard, TinyLoomShapeAndLinearParameters) {
  const ModelCard card = read_model_card(source_dir() / "models" / "tiny-loom");
  EXPECT_EQ(card.num_layers, 6);
  EXPECT_EQ(card.hidden_size, 256);
  EXPECT_EQ(card.num_heads, 8);
  EXPECT_EQ(card.num_kv_heads, 4);
  EXPECT_EQ(card.head_dim, 32);
  EXPECT_EQ(card.max_position_embeddings, 8192);
  EXPECT_EQ(card.eos_token_ids, (std::vector<int32_t>{1}));
  EXPECT_EQ(card.bos_token_id, 0);
  // 6 layers x (q,o: 2*256*8*32 + k,v: 2*256*4*32 + gated MLP: 3*256*768)
  EXPECT_DOUBLE_EQ(linear_params(card), 6.0 * (131072 + 65536 + 589824));
}

TEST(ModelCard, ConfigTextIsTheFileAsItIs) {
  const fs::path dir = fixture("qwen3_tiny");
  EXPECT_EQ(config_path(dir), dir / "config.json");
  EXPECT_EQ(read_config_text(dir), file_text(dir / "config.json"));
}

// A copy of a fixture's config.json (and generation_config.json) in a temporary directory, to be broken one key at
// a time.
class BadModelCard : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("loom_model_card_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    original_ = json::parse(file_text(fixture("qwen3_tiny") / "config.json"));
  }
  void TearDown() override { fs::remove_all(dir_); }

  void write(const json& config) const { std::ofstream(dir_ / "config.json") << config.dump(); }

  // Reads the card and returns its InputError (fails the test when nothing is thrown).
  InputError refusal() const {
    try {
      read_model_card(dir_);
    } catch (const InputError& e) {
      return e;
    }
    ADD_FAILURE() << "no InputError";
    return InputError("", 0, "", "");
  }

  fs::path dir_;
  json original_;
};

TEST_F(BadModelCard, TheUntouchedCopyIsRead) {
  write(original_);
  EXPECT_EQ(read_model_card(dir_).model_type, "qwen3");
}

TEST_F(BadModelCard, EachBadKeyIsNamed) {
  struct Case {
    std::string key;   // set (or, with a null value, removed) in config.json
    json value;
    std::string named; // the key the error names
  };
  const std::vector<Case> cases = {
      {"model_type", nullptr, "model_type"},
      {"model_type", "gpt2", "model_type"},
      {"architectures", "Qwen3ForCausalLM", "architectures"},
      {"architectures", json::array({1}), "architectures"},
      {"hidden_size", "64", "hidden_size"},
      {"hidden_size", nullptr, "hidden_size"},
      {"intermediate_size", nullptr, "intermediate_size"},
      {"num_hidden_layers", 1.5, "num_hidden_layers"},
      {"num_attention_heads", "many", "num_attention_heads"},
      {"num_key_value_heads", 3, "num_key_value_heads"},
      {"vocab_size", nullptr, "vocab_size"},
      {"max_position_embeddings", nullptr, "max_position_embeddings"},
      {"head_dim", "x", "head_dim"},
      {"hidden_act", "gelu", "hidden_act"},
      {"rms_norm_eps", "small", "rms_norm_eps"},
      {"tie_word_embeddings", "yes", "tie_word_embeddings"},
      {"attention_bias", 1, "attention_bias"},
      {"use_sliding_window", true, "use_sliding_window"},
      {"partial_rotary_factor", 0.5, "partial_rotary_factor"},
      {"dtype", 16, "dtype"},
      {"eos_token_id", "x", "eos_token_id"},
      {"bos_token_id", -1, "bos_token_id"},
      {"rope_parameters", {{"rope_type", "ntk"}, {"rope_theta", 10000.0}}, "rope_parameters.rope_type"},
      {"rope_parameters", {{"rope_type", "linear"}, {"rope_theta", 10000.0}}, "rope_parameters.factor"},
      {"rope_parameters", {{"rope_type", "llama3"}, {"factor", 8.0}, {"rope_theta", 10000.0}}, "low_freq_factor"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.key + " = " + c.value.dump());
    json config = original_;
    if (c.value.is_null()) {
      config.erase(c.key);
    } else {
      config[c.key] = c.value;
    }
    write(config);
    const InputError e = refusal();
    EXPECT_EQ(e.file(), (dir_ / "config.json").string());
    EXPECT_EQ(e.key(), c.named);
    EXPECT_FALSE(e.expected().empty());
    for (const char* raw : {"json.exception", "type_error", ".cpp:"})
      EXPECT_EQ(std::string(e.what()).find(raw), std::string::npos) << e.what();
  }
}

// The range checks (docs/trust-inputs.md): values no checkpoint has are refused naming the key.
TEST_F(BadModelCard, OutOfRangeValuesNameTheKey) {
  const std::vector<std::pair<std::string, json>> cases = {
      {"rope_theta", 3.0},        {"rms_norm_eps", 0.0},        {"rms_norm_eps", 5.0},
      {"head_dim", 33},           {"head_dim", -32},            {"vocab_size", -1},
      {"num_hidden_layers", 0},   {"max_position_embeddings", 0}, {"eos_token_id", 100000},
      {"hidden_size", 1 << 20}};
  for (const auto& [key, value] : cases) {
    SCOPED_TRACE(key + " = " + value.dump());
    json config = original_;
    config[key] = value;
    if (key == "rope_theta") config["rope_parameters"]["rope_theta"] = value;
    write(config);
    const InputError e = refusal();
    EXPECT_EQ(e.file(), (dir_ / "config.json").string());
    EXPECT_EQ(e.key(), key);
  }
}

// Sliding window (Qwen3 base, use_sliding_window on): layer_types decides the sliding layers when present, else
// max_window_layers; a bad window or layer_types is refused naming the key.
TEST_F(BadModelCard, SlidingWindowLayersAndBadValues) {
  json config = original_;
  config["use_sliding_window"] = true;
  config["sliding_window"] = 128;
  config["layer_types"] = {"full_attention", "sliding_attention"};
  write(config);
  ModelCard card = read_model_card(dir_);
  EXPECT_EQ(card.sliding_window, 128);
  EXPECT_EQ(layer_window(card, 0), 0);
  EXPECT_EQ(layer_window(card, 1), 128);
  config.erase("layer_types");
  config["max_window_layers"] = 0;
  write(config);
  card = read_model_card(dir_);
  EXPECT_EQ(layer_window(card, 0), 128);
  config["use_sliding_window"] = false;  // transformers ignores the window then
  write(config);
  EXPECT_EQ(read_model_card(dir_).sliding_window, 0);
  config["use_sliding_window"] = true;
  const std::vector<std::pair<std::string, json>> cases = {
      {"sliding_window", 0},          {"sliding_window", "4k"},
      {"layer_types", {"full_attention"}}, {"layer_types", {"full_attention", "local"}},
      {"max_window_layers", -1}};
  for (const auto& [key, value] : cases) {
    SCOPED_TRACE(key + " = " + value.dump());
    json bad = config;
    bad[key] = value;
    write(bad);
    EXPECT_EQ(refusal().key(), key);
  }
  config.erase("sliding_window");
  write(config);
  EXPECT_EQ(refusal().key(), "use_sliding_window");
}

// Phi-3: fused projections. Phi-3-128k / Phi-3.5's longrope, in the Hub's 4.x layout (phi3_longrope) and in the 5.x
// one; the legacy "su" / "yarn" types mean longrope for phi3 (Phi3Config); bad factor lists are refused naming the key.
TEST_F(BadModelCard, Phi3FusedAndLongrope) {
  json config = json::parse(file_text(fixture("phi3_tiny") / "config.json"));
  write(config);
  EXPECT_TRUE(read_model_card(dir_).fused_projections);
  EXPECT_EQ(read_model_card(dir_).rope.type, "default");

  const ModelCard hub = read_model_card(fixture("phi3_longrope"));
  EXPECT_TRUE(hub.fused_projections);
  EXPECT_EQ(hub.rope.type, "longrope");
  EXPECT_EQ(hub.rope.params_key, "rope_scaling");
  EXPECT_EQ(hub.rope.original_max_position_embeddings, 64);
  EXPECT_DOUBLE_EQ(hub.rope.factor, 4.0);  // no factor key: max_position_embeddings / original
  EXPECT_FALSE(hub.rope.attention_factor.has_value());
  EXPECT_EQ(hub.rope.short_factor, (std::vector<double>{1.0, 1.05, 1.1, 1.2, 1.35, 1.5, 1.8, 2.0}));
  EXPECT_EQ(hub.rope.long_factor, (std::vector<double>{1.0, 1.3, 2.0, 3.5, 6.0, 10.0, 16.0, 24.0}));
  EXPECT_EQ(trained_context(hub), 256);

  const std::vector<double> eight(8, 1.5);
  config["max_position_embeddings"] = 131072;
  config.erase("original_max_position_embeddings");  // Phi3Config's default 4096 wins over the rope dict's
  config["rope_parameters"] = {{"rope_type", "longrope"}, {"rope_theta", 10000.0}, {"short_factor", eight},
                               {"long_factor", eight}, {"original_max_position_embeddings", 1000},
                               {"factor", 8.0}, {"attention_factor", 1.25}};
  write(config);
  ModelCard five = read_model_card(dir_);
  EXPECT_EQ(five.rope.type, "longrope");
  EXPECT_EQ(five.rope.params_key, "rope_parameters");
  EXPECT_EQ(five.rope.original_max_position_embeddings, 4096);
  EXPECT_DOUBLE_EQ(five.rope.factor, 8.0);
  EXPECT_DOUBLE_EQ(*five.rope.attention_factor, 1.25);
  for (const char* legacy : {"su", "yarn"}) {
    json old = config;
    old.erase("rope_parameters");
    old["rope_scaling"] = {{"type", legacy}, {"short_factor", eight}, {"long_factor", eight}};
    write(old);
    EXPECT_EQ(read_model_card(dir_).rope.type, "longrope") << legacy;
  }

  struct Case {
    std::string key;
    json value;
    std::string expected_key;
    std::string says;
  };
  const std::vector<Case> cases = {
      {"short_factor", std::vector<double>(7, 1.0), "rope_parameters.short_factor", "expected 8 numbers (head_dim 16"},
      {"long_factor", std::vector<double>(9, 1.0), "rope_parameters.long_factor", "got 9"},
      {"long_factor", {1, 2, 3, 4, 5, 6, 0, 8}, "rope_parameters.long_factor", "positive numbers"},
      {"short_factor", "1.0", "rope_parameters.short_factor", "a list of numbers"},
      {"short_factor", {1, 2, "x", 4, 5, 6, 7, 8}, "rope_parameters.short_factor", "a list of numbers"},
      {"long_factor", nullptr, "rope_parameters.long_factor", "missing"},
      {"attention_factor", -1.0, "rope_parameters.attention_factor", "positive"},
      {"factor", 0.5, "rope_parameters.factor", "[1, 10000]"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.key + " = " + c.value.dump());
    json bad = config;
    bad["rope_parameters"][c.key] = c.value;
    write(bad);
    const InputError e = refusal();
    EXPECT_EQ(e.key(), c.expected_key);
    EXPECT_NE(std::string(e.what()).find(c.says), std::string::npos) << e.what();
  }
  // Phi-4-mini's partial rotary longrope stays refused, naming the key.
  json partial = config;
  partial["rope_parameters"]["partial_rotary_factor"] = 0.75;
  write(partial);
  EXPECT_EQ(refusal().key(), "partial_rotary_factor");
}

// GLM / GLM-4: q/k/v biases, fused gate_up_proj, interleaved partial RoPE (0.5 when config.json has no factor);
// GLM-4's sandwich norms. Partial rotary is refused elsewhere, and with an odd rotary width or a scaled RoPE.
TEST_F(BadModelCard, GlmPartialInterleavedRope) {
  const ModelCard glm = read_model_card(fixture("glm_tiny"));  // 4.x layout: partial_rotary_factor at top level
  EXPECT_EQ(glm.model_type, "glm");
  EXPECT_TRUE(glm.qkv_bias && glm.fused_gate_up && glm.interleaved_rope);
  EXPECT_FALSE(glm.o_bias || glm.fused_projections || glm.sandwich_norms);
  EXPECT_DOUBLE_EQ(glm.rope.partial_rotary_factor, 0.5);
  const ModelCard glm4 = read_model_card(fixture("glm4_tiny"));
  EXPECT_TRUE(glm4.sandwich_norms);
  EXPECT_EQ(glm4.head_dim, 32);
  json config = json::parse(file_text(fixture("glm_tiny") / "config.json"));
  config.erase("partial_rotary_factor");
  config["attention_bias"] = false;
  write(config);
  EXPECT_DOUBLE_EQ(read_model_card(dir_).rope.partial_rotary_factor, 0.5);  // transformers' GlmConfig default
  EXPECT_FALSE(read_model_card(dir_).qkv_bias);
  config["partial_rotary_factor"] = 0.3;  // 16 * 0.3 = 4.8 -> 4 rotary dims: accepted, as transformers' int()
  write(config);
  EXPECT_DOUBLE_EQ(read_model_card(dir_).rope.partial_rotary_factor, 0.3);
  config["partial_rotary_factor"] = 0.2;  // 3 rotary dims: no whole pairs
  write(config);
  EXPECT_EQ(refusal().key(), "partial_rotary_factor");
  config["partial_rotary_factor"] = 0.5;
  config["rope_scaling"] = {{"type", "linear"}, {"factor", 2.0}};
  write(config);
  EXPECT_EQ(refusal().key(), "rope_scaling.rope_type");
  json llama = original_;
  llama["partial_rotary_factor"] = 0.5;
  write(llama);
  EXPECT_EQ(refusal().key(), "partial_rotary_factor");
}

// Gemma 3: text (5.x rope_parameters per layer type) and multimodal (4.x text_config with Gemma3TextConfig's
// defaults filled in); attention soft-capping, bidirectional attention and a missing text_config are refused.
TEST_F(BadModelCard, Gemma3TextAndMultimodalConfigs) {
  const ModelCard text = read_model_card(fixture("gemma3_text_tiny"));
  EXPECT_EQ(text.model_type, "gemma3_text");
  EXPECT_TRUE(text.qk_norm && text.gemma_norms && text.sandwich_norms && text.scaled_embeddings);
  EXPECT_FALSE(text.tie_word_embeddings);
  EXPECT_EQ(text.activation, "gelu_pytorch_tanh");
  EXPECT_DOUBLE_EQ(text.query_pre_attn_scalar, 24);
  EXPECT_DOUBLE_EQ(text.final_logit_softcapping, 30);
  EXPECT_EQ(text.rope.type, "linear");
  EXPECT_DOUBLE_EQ(text.rope.factor, 2.0);
  EXPECT_DOUBLE_EQ(text.rope.theta, 1e6);
  ASSERT_TRUE(text.sliding_rope.has_value());
  EXPECT_DOUBLE_EQ(text.sliding_rope->theta, 1e4);
  EXPECT_EQ(text.sliding_layers, (std::vector<bool>{true, false, true}));
  EXPECT_EQ(text.sliding_window, 5);
  const ModelCard mm = read_model_card(fixture("gemma3_tiny"));
  EXPECT_EQ(mm.model_type, "gemma3");
  EXPECT_EQ(mm.hidden_size, 64);
  EXPECT_DOUBLE_EQ(mm.query_pre_attn_scalar, 256);  // Gemma3TextConfig's default
  EXPECT_EQ(mm.activation, "gelu_pytorch_tanh");
  EXPECT_TRUE(mm.tie_word_embeddings);
  EXPECT_DOUBLE_EQ(mm.final_logit_softcapping, 0);
  EXPECT_EQ(mm.rope.type, "default");
  EXPECT_DOUBLE_EQ(mm.rope.theta, 1e6);
  EXPECT_DOUBLE_EQ(mm.sliding_rope->theta, 1e4);  // rope_local_base_freq
  EXPECT_EQ(mm.sliding_layers, (std::vector<bool>{true, false, true}));  // sliding_window_pattern 2
  EXPECT_EQ(mm.eos_token_ids, (std::vector<int32_t>{1, 3}));
  json config = json::parse(file_text(fixture("gemma3_text_tiny") / "config.json"));
  config["attn_logit_softcapping"] = 50.0;
  write(config);
  EXPECT_EQ(refusal().key(), "attn_logit_softcapping");
  config["attn_logit_softcapping"] = nullptr;
  config["use_bidirectional_attention"] = true;
  write(config);
  EXPECT_EQ(refusal().key(), "use_bidirectional_attention");
  json multimodal = json::parse(file_text(fixture("gemma3_tiny") / "config.json"));
  multimodal.erase("text_config");
  write(multimodal);
  EXPECT_EQ(refusal().key(), "text_config");
}

// Qwen3-MoE: Qwen3's attention, sparse layers from decoder_sparse_step and mlp_only_layers, Qwen3MoeConfig's
// defaults for absent keys; the cost model counts the experts one token runs through.
TEST_F(BadModelCard, Qwen3MoeSparseLayersAndRouting) {
  const ModelCard moe = read_model_card(fixture("qwen3_moe_tiny"));  // 5.x config, mlp_only_layers [1]
  EXPECT_EQ(moe.model_type, "qwen3_moe");
  EXPECT_EQ(moe.class_names, (std::vector<std::string>{"Qwen3MoeForCausalLM"}));
  EXPECT_TRUE(moe.qk_norm);
  EXPECT_FALSE(moe.qkv_bias);
  EXPECT_EQ(moe.num_experts, 8);
  EXPECT_EQ(moe.num_experts_per_tok, 2);
  EXPECT_EQ(moe.moe_intermediate_size, 48);
  EXPECT_TRUE(moe.norm_topk_prob);
  EXPECT_EQ(moe.sparse_layers, (std::vector<bool>{true, false, true}));
  EXPECT_TRUE(has_sparse_layers(moe));
  EXPECT_FALSE(sparse_layer(moe, 1));
  EXPECT_FALSE(sparse_layer(moe, 3));  // out of range
  const double attention = 2 * 64.0 * 4 * 32 + 2 * 64.0 * 2 * 32;
  EXPECT_DOUBLE_EQ(linear_params(moe), 3 * attention + 2 * (64.0 * 8 + 3 * 64.0 * 48 * 2) + 3 * 64.0 * 128);
  const ModelCard legacy = read_model_card(fixture("qwen3_moe_legacy"));  // 4.x config, decoder_sparse_step 2
  EXPECT_EQ(legacy.sparse_layers, (std::vector<bool>{false, true, false, true}));
  EXPECT_EQ(legacy.num_experts_per_tok, 3);
  EXPECT_EQ(legacy.moe_intermediate_size, 35);
  EXPECT_FALSE(legacy.norm_topk_prob);
  EXPECT_FALSE(has_sparse_layers(read_model_card(fixture("qwen3_tiny"))));

  json config = json::parse(file_text(fixture("qwen3_moe_tiny") / "config.json"));
  EXPECT_EQ(config["num_local_experts"], 8);  // transformers 5.x writes num_experts under this name
  for (const char* key : {"num_local_experts", "num_experts_per_tok", "moe_intermediate_size", "norm_topk_prob",
                          "decoder_sparse_step", "mlp_only_layers"}) {
    config.erase(key);
  }
  write(config);
  const ModelCard defaults = read_model_card(dir_);  // Qwen3MoeConfig's defaults
  EXPECT_EQ(defaults.num_experts, 128);
  EXPECT_EQ(defaults.num_experts_per_tok, 8);
  EXPECT_EQ(defaults.moe_intermediate_size, 768);
  EXPECT_FALSE(defaults.norm_topk_prob);
  EXPECT_EQ(defaults.sparse_layers, (std::vector<bool>{true, true, true}));
  config = json::parse(file_text(fixture("qwen3_moe_tiny") / "config.json"));
  config["num_local_experts"] = 0;  // transformers: every layer dense
  write(config);
  EXPECT_FALSE(has_sparse_layers(read_model_card(dir_)));
  config["num_local_experts"] = 8;
  config["num_experts"] = 8;  // both names, agreeing
  config["use_sliding_window"] = true;  // every layer slides (Qwen3MoeAttention has no max_window_layers)
  config["sliding_window"] = 4;
  config["max_window_layers"] = 2;
  write(config);
  const ModelCard sliding = read_model_card(dir_);
  EXPECT_EQ(sliding.num_experts, 8);
  EXPECT_EQ(sliding.sliding_layers, (std::vector<bool>{true, true, true}));
  config["num_experts"] = 4;
  write(config);
  EXPECT_EQ(refusal().key(), "num_local_experts");
  config.erase("num_experts");
  config["sliding_window"] = nullptr;
  write(config);
  EXPECT_EQ(refusal().key(), "use_sliding_window");
  struct Bad {
    const char* key;
    json value;
  };
  for (const Bad& bad : {Bad{"num_experts_per_tok", 9}, Bad{"num_experts_per_tok", 0}, Bad{"num_experts", -1},
                         Bad{"num_experts", 2.5}, Bad{"moe_intermediate_size", 0}, Bad{"decoder_sparse_step", 0},
                         Bad{"mlp_only_layers", json::array({3})}, Bad{"mlp_only_layers", "1"},
                         Bad{"mlp_only_layers", json::array({"1"})}, Bad{"norm_topk_prob", "yes"}}) {
    config = json::parse(file_text(fixture("qwen3_moe_tiny") / "config.json"));
    config[bad.key] = bad.value;
    write(config);
    const InputError e = refusal();
    EXPECT_EQ(e.key(), bad.key) << bad.value.dump() << ": " << e.what();
    EXPECT_EQ(e.file(), (dir_ / "config.json").string());
  }
}

TEST_F(BadModelCard, MissingConfigJsonSaysWhatWasExpected) {
  const InputError e = refusal();
  EXPECT_EQ(e.file(), (dir_ / "config.json").string());
  EXPECT_NE(std::string(e.what()).find("expected a Hugging Face model directory"), std::string::npos) << e.what();
  EXPECT_THROW(read_config_text(dir_), InputError);
}

TEST_F(BadModelCard, MalformedJsonNamesTheLine) {
  std::ofstream(dir_ / "config.json") << "{\n  \"model_type\": \"qwen3\",\n  \"hidden_size\": 64,,\n}";
  const InputError e = refusal();
  EXPECT_EQ(e.line(), 3);
  EXPECT_EQ(std::string(e.what()).find("json.exception"), std::string::npos) << e.what();
  std::ofstream(dir_ / "config.json") << "[1, 2]";
  EXPECT_NE(std::string(refusal().what()).find("expected a JSON object"), std::string::npos);
}

TEST_F(BadModelCard, GenerationConfigEosIdsOverrideAndAreChecked) {
  write(original_);
  std::ofstream(dir_ / "generation_config.json") << R"({"eos_token_id": [5, 7]})";
  EXPECT_EQ(read_model_card(dir_).eos_token_ids, (std::vector<int32_t>{5, 7}));
  std::ofstream(dir_ / "generation_config.json") << R"({"eos_token_id": 4096})";  // vocab_size is 512
  const InputError e = refusal();
  EXPECT_EQ(e.file(), (dir_ / "generation_config.json").string());
  EXPECT_EQ(e.key(), "eos_token_id");
}

}  // namespace
}  // namespace loom::model
