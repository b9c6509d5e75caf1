// Loader errors: each class of bad model directory gives a loom::InputError naming the file and the tensor/key.
#include "common/error.h"
#include "model_test_util.h"
#include "rank/model/inference_engine.h"
#include "rank/model/model_config.h"
#include "rank/model/weight_store.h"

#include <gtest/gtest.h>

#include <fstream>

namespace loom::model {
namespace {

namespace fs = std::filesystem;
using testing::fixture_dir;

class LoaderErrors : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("loom_loader_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    for (const char* file : {"config.json", "generation_config.json", "model.safetensors"}) {
      fs::copy_file(fixture_dir("qwen3_tiny") / file, dir_ / file);
    }
    tensors_ = testing::read_raw(dir_ / "model.safetensors");
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Loads the directory and returns the InputError's message (fails the test when nothing is thrown).
  std::string load_error() {
    EngineOptions options;
    options.model_dir = dir_;
    options.device = "cpu";
    try {
      create_engine(options, nullptr, nullptr);
    } catch (const InputError& e) {
      return e.what();
    }
    ADD_FAILURE() << "no InputError";
    return "";
  }
  void rewrite() { testing::write_safetensors(dir_ / "model.safetensors", tensors_); }
  std::string file(const char* name) const { return (dir_ / name).string(); }

  fs::path dir_;
  std::map<std::string, testing::RawTensor> tensors_;
};

TEST_F(LoaderErrors, LoadsTheUntouchedCopy) {
  EngineOptions options;
  options.model_dir = dir_;
  options.device = "cpu";
  EXPECT_NO_THROW(create_engine(options, nullptr, nullptr));
}

TEST_F(LoaderErrors, MissingTensorNamesFileAndTensor) {
  tensors_.erase("model.layers.1.self_attn.k_norm.weight");
  rewrite();
  const std::string message = load_error();
  EXPECT_NE(message.find(file("model.safetensors")), std::string::npos) << message;
  EXPECT_NE(message.find("model.layers.1.self_attn.k_norm.weight"), std::string::npos) << message;
  EXPECT_NE(message.find("missing tensor"), std::string::npos) << message;
}

TEST_F(LoaderErrors, WrongShapeNamesTensorAndShapes) {
  auto& norm = tensors_.at("model.norm.weight");
  norm.shape = {2, 32};
  rewrite();
  const std::string message = load_error();
  EXPECT_NE(message.find("model.norm.weight"), std::string::npos) << message;
  EXPECT_NE(message.find("wrong shape [2, 32]: expected [64]"), std::string::npos) << message;
}

TEST_F(LoaderErrors, UnsupportedDtypeNamesTensor) {
  auto& norm = tensors_.at("model.norm.weight");
  norm.dtype = "I16";  // same byte size as BF16, so the header stays consistent
  rewrite();
  const std::string message = load_error();
  EXPECT_NE(message.find("model.norm.weight"), std::string::npos) << message;
  EXPECT_NE(message.find("unsupported dtype I16"), std::string::npos) << message;
}

TEST_F(LoaderErrors, TruncatedFileNamesFileAndTensor) {
  const auto size = fs::file_size(dir_ / "model.safetensors");
  fs::resize_file(dir_ / "model.safetensors", size - 100);
  const std::string message = load_error();
  EXPECT_NE(message.find(file("model.safetensors")), std::string::npos) << message;
  EXPECT_NE(message.find("truncated file"), std::string::npos) << message;
}

TEST_F(LoaderErrors, BadJsonHeaderNamesFile) {
  {
    std::fstream f(dir_ / "model.safetensors", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(8);
    f.put('!');  // the header's opening brace
  }
  const std::string message = load_error();
  EXPECT_NE(message.find(file("model.safetensors")), std::string::npos) << message;
  EXPECT_NE(message.find("bad JSON header"), std::string::npos) << message;
}

TEST_F(LoaderErrors, HeaderLengthBeyondFileIsTruncation) {
  fs::resize_file(dir_ / "model.safetensors", 20);
  const std::string message = load_error();
  EXPECT_NE(message.find("truncated file"), std::string::npos) << message;
}

TEST_F(LoaderErrors, BadConfigFieldNamesKey) {
  std::ifstream in(dir_ / "config.json");
  nlohmann::json config = nlohmann::json::parse(in);
  config["num_key_value_heads"] = 3;
  std::ofstream(dir_ / "config.json") << config.dump();
  const std::string message = load_error();
  EXPECT_NE(message.find(file("config.json")), std::string::npos) << message;
  EXPECT_NE(message.find("num_key_value_heads"), std::string::npos) << message;
}

TEST_F(LoaderErrors, UnsupportedArchitectureNamesModelType) {
  std::ifstream in(dir_ / "config.json");
  nlohmann::json config = nlohmann::json::parse(in);
  config["model_type"] = "gpt2";
  std::ofstream(dir_ / "config.json") << config.dump();
  const std::string message = load_error();
  EXPECT_NE(message.find("model_type"), std::string::npos) << message;
  EXPECT_NE(message.find("gpt2"), std::string::npos) << message;
}

TEST(WeightStoreSlices, LoadsRowAndColumnShards) {
  WeightStore store(fixture_dir("llama_linear"));  // sharded: model.safetensors.index.json
  const std::string name = "model.layers.0.self_attn.q_proj.weight";
  at::Tensor full = store.load(name, {64, 64}, at::kFloat, at::kCPU);
  at::Tensor rows = store.load(name, {64, 64}, at::kFloat, at::kCPU, TensorSlice{0, 16, 16});
  at::Tensor cols = store.load(name, {64, 64}, at::kFloat, at::kCPU, TensorSlice{1, 32, 32});
  EXPECT_TRUE(at::equal(rows, full.narrow(0, 16, 16)));
  EXPECT_TRUE(at::equal(cols, full.narrow(1, 32, 32)));
  EXPECT_TRUE(cols.is_contiguous());
  EXPECT_THROW(store.load(name, {64, 64}, at::kFloat, at::kCPU, TensorSlice{1, 60, 8}), InputError);
  EXPECT_THROW(store.load("model.nothing", {1}, at::kFloat, at::kCPU), InputError);
}

TEST(ModelConfigParsing, LegacyAndCurrentLayouts) {
  const ModelConfig yarn = load_model_config(fixture_dir("qwen2_yarn"));  // 4.x layout: rope_scaling + type
  EXPECT_EQ(yarn.rope.type, "yarn");
  EXPECT_DOUBLE_EQ(yarn.rope.factor, 4.0);
  EXPECT_EQ(yarn.rope.original_max_position_embeddings, 32);
  EXPECT_DOUBLE_EQ(yarn.rope.theta, 1e6);
  EXPECT_TRUE(yarn.qkv_bias);
  const ModelConfig llama3 = load_model_config(fixture_dir("llama3_tiny"));  // 5.x layout: rope_parameters
  EXPECT_EQ(llama3.rope.type, "llama3");
  EXPECT_DOUBLE_EQ(llama3.rope.theta, 500000.0);
  EXPECT_TRUE(llama3.tie_word_embeddings);
  EXPECT_EQ(llama3.eos_token_ids, (std::vector<int32_t>{2, 3}));
  const ModelConfig qwen3 = load_model_config(fixture_dir("qwen3_tiny"));
  EXPECT_TRUE(qwen3.qk_norm);
  EXPECT_EQ(qwen3.head_dim, 32);
}

}  // namespace
}  // namespace loom::model
