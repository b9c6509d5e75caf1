// The torch-free job check: world size a multiple of tensor_parallel, heads and KV heads divisible, messages that
// name the job key and list the sizes that work; head counts from the fixture models' cards.
#include "common/error.h"
#include "model_card/tensor_parallel_check.h"

#include <gtest/gtest.h>

#include <filesystem>

namespace loom::parallel {
namespace {

std::filesystem::path fixture(const std::string& name) {
  return std::filesystem::path(LOOM_SOURCE_DIR) / "tests" / "fixtures" / "models" / name;
}

std::string message(int tp, int world, const HeadCounts& counts) {
  try {
    check_tensor_parallel(tp, world, counts, "job.yaml", "model/config.json");
  } catch (const InputError& e) {
    EXPECT_EQ(e.file(), "job.yaml");
    EXPECT_EQ(e.key(), "parallel.tensor_parallel");
    return e.what();
  }
  return "";
}

TEST(TensorParallelCheck, ReadsHeadCountsOfTheFixtures) {
  const HeadCounts mha = head_counts(model::read_model_card(fixture("llama_linear")));
  EXPECT_EQ(mha.heads, 4);
  EXPECT_EQ(mha.kv_heads, 4);
  const HeadCounts gqa = head_counts(model::read_model_card(fixture("llama3_tiny")));
  EXPECT_EQ(gqa.heads, 4);
  EXPECT_EQ(gqa.kv_heads, 2);
  EXPECT_EQ(valid_tensor_parallel_sizes(mha), (std::vector<int>{1, 2, 4}));
  EXPECT_EQ(valid_tensor_parallel_sizes(gqa), (std::vector<int>{1, 2}));
  EXPECT_EQ(valid_tensor_parallel_sizes({32, 8}), (std::vector<int>{1, 2, 4, 8}));
}

TEST(TensorParallelCheck, AcceptsDivisibleSetups) {
  EXPECT_EQ(message(1, 1, {4, 2}), "");
  EXPECT_EQ(message(2, 4, {4, 2}), "");
  EXPECT_EQ(message(4, 8, {32, 8}), "");
}

TEST(TensorParallelCheck, RejectsWorldSizesThatAreNotAMultiple) {
  const std::string m = message(4, 6, {32, 8});
  EXPECT_NE(m.find("number of ranks (6)"), std::string::npos) << m;
}

TEST(TensorParallelCheck, RejectsHeadsThatDoNotDivideAndListsTheValidSizes) {
  const std::string kv = message(4, 4, {4, 2});
  EXPECT_NE(kv.find("num_key_value_heads (2)"), std::string::npos) << kv;
  EXPECT_NE(kv.find("[1, 2]"), std::string::npos) << kv;
  EXPECT_NE(kv.find("model/config.json"), std::string::npos) << kv;
  EXPECT_NE(message(3, 6, {32, 8}), "");
  EXPECT_NE(message(0, 4, {4, 4}), "");
}

}  // namespace
}  // namespace loom::parallel
