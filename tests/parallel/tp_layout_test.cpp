// Shard planning and loading without MPI: head/KV-head divisibility errors name config.json and the key, the
// shard ranges of every rank tile the model, vocab and intermediate padding, and load_shard's zero padding.
#include "common/error.h"
#include "model/model_test_util.h"
#include "model_card/model_card.h"
#include "rank/model/tensor_parallel_layers.h"
#include "rank/model/weight_store.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <cstring>

namespace loom::model {
namespace {

// A communicator that only reports a rank and size (planning never communicates).
class FixedRankCommunicator final : public parallel::Communicator {
 public:
  FixedRankCommunicator(int rank, int size) : rank_(rank), size_(size) {}
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  void all_reduce_sum(at::Tensor&) override { FAIL() << "planning must not communicate"; }
  at::Tensor all_gather(const at::Tensor& local, int64_t) override { return local; }
  void broadcast(at::Tensor&, int) override {}

 private:
  int rank_, size_;
};

ModelCard config(int64_t heads, int64_t kv_heads, int64_t inter, int64_t vocab) {
  ModelCard c;
  c.num_heads = heads;
  c.num_kv_heads = kv_heads;
  c.intermediate_size = inter;
  c.vocab_size = vocab;
  c.config_file = "/models/x/config.json";
  return c;
}

std::string error_key(const ModelCard& c, int size) {
  FixedRankCommunicator comm(0, size);
  try {
    plan_tensor_parallel(c, &comm);
  } catch (const InputError& e) {
    EXPECT_EQ(e.file(), "/models/x/config.json");
    return e.key();
  }
  return "<no error>";
}

TEST(TensorParallelLayout, RejectsHeadsThatDoNotDivide) {
  EXPECT_EQ(error_key(config(6, 2, 128, 512), 4), "num_attention_heads");
  EXPECT_EQ(error_key(config(8, 2, 128, 512), 4), "num_key_value_heads");
  EXPECT_EQ(error_key(config(8, 4, 128, 512), 4), "<no error>");
  EXPECT_EQ(error_key(config(7, 1, 100, 500), 1), "<no error>");
}

TEST(TensorParallelLayout, NoCommunicatorIsTheWholeModel) {
  const TensorParallelLayout l = plan_tensor_parallel(config(32, 8, 14336, 128256), nullptr);
  EXPECT_FALSE(l.sharded());
  EXPECT_EQ(l.heads, 32);
  EXPECT_EQ(l.kv_heads, 8);
  EXPECT_EQ(l.intermediate, 14336);
  EXPECT_EQ(l.vocab, 128256);
  EXPECT_EQ(l.vocab_start, 0);
}

TEST(TensorParallelLayout, ShardsTileTheModelWithPadding) {
  const ModelCard c = config(32, 8, 1000, 1001);
  int64_t heads = 0, kv = 0;
  for (int r = 0; r < 4; ++r) {
    FixedRankCommunicator comm(r, 4);
    const TensorParallelLayout l = plan_tensor_parallel(c, &comm);
    EXPECT_TRUE(l.sharded());
    EXPECT_EQ(l.head_start, heads);
    EXPECT_EQ(l.kv_head_start, kv);
    heads += l.heads;
    kv += l.kv_heads;
    EXPECT_EQ(l.intermediate, 250);
    EXPECT_EQ(l.intermediate_start, 250 * r);
    EXPECT_EQ(l.vocab, 251);  // ceil(1001 / 4): the last rank holds 248 real rows and 3 zero rows
    EXPECT_EQ(l.vocab_start, 251 * r);
  }
  EXPECT_EQ(heads, 32);
  EXPECT_EQ(kv, 8);
}

TEST(TensorParallelLayout, LoadShardSlicesAndZeroPads) {
  const auto dir = std::filesystem::temp_directory_path() / ("loom_tp_shard_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  at::Tensor full = at::arange(5 * 3, at::kFloat).view({5, 3});
  std::string bytes(static_cast<size_t>(full.numel() * 4), '\0');
  std::memcpy(bytes.data(), full.data_ptr(), bytes.size());
  testing::write_safetensors(dir / "model.safetensors", {{"w", testing::RawTensor{"F32", {5, 3}, bytes}}});
  WeightStore store(dir);
  const at::Tensor rows = load_shard(store, "w", {5, 3}, 0, 3, 3, at::kFloat, at::kCPU);  // rows 3, 4 + one pad
  ASSERT_EQ(rows.sizes(), (std::vector<int64_t>{3, 3}));
  EXPECT_TRUE(at::equal(rows.narrow(0, 0, 2), full.narrow(0, 3, 2)));
  EXPECT_TRUE(at::equal(rows[2], at::zeros({3})));
  const at::Tensor cols = load_shard(store, "w", {5, 3}, 1, 1, 2, at::kFloat, at::kCPU);
  EXPECT_TRUE(at::equal(cols, full.narrow(1, 1, 2)));
  const at::Tensor whole = load_shard(store, "w", {5, 3}, 0, 0, 5, at::kFloat, at::kCPU);
  EXPECT_TRUE(at::equal(whole, full));
  const at::Tensor past_end = load_shard(store, "w", {5, 3}, 0, 6, 2, at::kFloat, at::kCPU);
  EXPECT_TRUE(at::equal(past_end, at::zeros({2, 3})));
  EXPECT_THROW(load_shard(store, "w", {4, 3}, 0, 0, 2, at::kFloat, at::kCPU), InputError);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace loom::model
