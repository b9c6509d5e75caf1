// Tensor parallelism end to end under `mpirun -np 4`: the MPI communicator's collectives for groups of 1, 2 and 4,
// then the engine sharded over TP = 1, 2, 4 and DP 2 x TP 2 on the fixture models of
// tools/fixtures/make_model_fixtures.py. Last-position logits must equal transformers' (and the unsharded model's)
// within 1e-4 in fp32, and greedy tokens must be identical to the unsharded engine's, with the full cache and with
// head-local compression methods (snapkv, streaming_llm, criticalkv with each rank's o_proj columns), AdaKV
// (budgets across the group's heads), CriticalAdaKV (budgets across the group's heads, |V W_o| per rank), ChunkKV
// (chunks ranked over the group's heads), key re-rotation (decoding from the kept count) and decode-time
// compression (decoding over TOVA, whose head mean is all-reduced, and over SnapKV); Qwen3-MoE's sharded experts
// at TP 1 and 2; LongRoPE greedy tokens across its short/long switch at TP 2. Pooled final hidden states (embeddings) equal the unsharded engine's on every rank for TP 2 and 4.
#include "common/mpi/mpi_comm.h"
#include "model/model_test_util.h"
#include "model_card/model_card.h"
#include "rank/accel/registry.h"
#include "rank/model/inference_engine.h"
#include "rank/model/weight_store.h"
#include "rank/parallel/communicator_factory.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

namespace loom::parallel {
namespace {

using mpi::Comm;
using model::testing::fixture_dir;
using model::testing::to_vector;

// The world split into consecutive groups of `tp` ranks, each with its MPI communicator.
struct Group {
  Comm comm;
  std::unique_ptr<Communicator> tp;
  int index = 0;
};

Group make_group(int tp) {
  const Comm world = Comm::world();
  Group g;
  g.index = world.rank() / tp;
  g.comm = world.split(g.index, world.rank());
  g.tp = make_communicator(g.comm.raw(), at::Device(at::kCPU));
  return g;
}

TEST(MpiCommunicator, CollectivesForGroupsOf1And2And4) {
  ASSERT_EQ(Comm::world().size(), 4) << "run under mpirun -np 4";
  for (int tp : {1, 2, 4}) {
    SCOPED_TRACE("tp " + std::to_string(tp));
    Group g = make_group(tp);
    ASSERT_EQ(g.tp->size(), tp);
    const int r = g.tp->rank();
    at::Tensor x = at::arange(6, at::kFloat).view({2, 3}) * (r + 1);
    g.tp->all_reduce_sum(x);
    const double factor = tp * (tp + 1) / 2.0;
    EXPECT_TRUE(at::equal(x, at::arange(6, at::kFloat).view({2, 3}) * factor));

    at::Tensor half = at::full({5}, r + 1.0, at::TensorOptions().dtype(at::kBFloat16));
    g.tp->all_reduce_sum(half);
    EXPECT_EQ(half.scalar_type(), at::kBFloat16);
    EXPECT_TRUE(at::equal(half.to(at::kFloat), at::full({5}, factor)));

    at::Tensor local = at::full({2, 3}, static_cast<double>(r), at::kFloat);
    at::Tensor rows = g.tp->all_gather(local, 0);
    at::Tensor cols = g.tp->all_gather(local, -1);
    ASSERT_EQ(rows.sizes(), (std::vector<int64_t>{2 * tp, 3}));
    ASSERT_EQ(cols.sizes(), (std::vector<int64_t>{2, 3 * tp}));
    for (int k = 0; k < tp; ++k) {
      EXPECT_TRUE(at::equal(rows.narrow(0, 2 * k, 2), at::full({2, 3}, static_cast<double>(k), at::kFloat)));
      EXPECT_TRUE(at::equal(cols.narrow(1, 3 * k, 3), at::full({2, 3}, static_cast<double>(k), at::kFloat)));
    }

    const int root = tp - 1;
    at::Tensor b = at::full({4}, static_cast<int64_t>(r == root ? 42 : -1), at::kLong);
    g.tp->broadcast(b, root);
    EXPECT_TRUE(at::equal(b, at::full({4}, static_cast<int64_t>(42), at::kLong)));
  }
}

TEST(CommunicatorFactory, PicksMpiForCpuAndGpuFromNodeLocalRank) {
  EXPECT_EQ(backend_for(at::Device(at::kCPU)), "mpi");
  EXPECT_EQ(backend_for(at::Device(at::kCUDA, 0)), nccl_available() ? "nccl" : "mpi");
  const int local = node_local_rank(Comm::world().raw());
  EXPECT_GE(local, 0);
  EXPECT_LT(local, 4);
  EXPECT_EQ(local_cuda_device(5, 4), 1);
  EXPECT_EQ(local_cuda_device(3, 8), 3);
  EXPECT_EQ(local_cuda_device(3, 0), 0);
}

// The fixtures whose heads and KV heads divide by `tp`.
std::vector<std::string> fixtures_for(int tp) {
  std::vector<std::string> out;
  for (const std::string& name : model::testing::fixture_names()) {
    const model::ModelCard c = model::read_model_card(fixture_dir(name));
    if (c.num_heads % tp == 0 && c.num_kv_heads % tp == 0) out.push_back(name);
  }
  return out;
}

at::Tensor sharded_logits(const std::string& name, Communicator* tp, int64_t chunk) {
  model::WeightStore weights(fixture_dir(name));
  model::DecoderModel m(model::read_model_card(fixture_dir(name)), weights, at::kFloat, at::kCPU, tp);
  const int size = tp == nullptr ? 1 : tp->size();
  EXPECT_EQ(m.tensor_parallel().size, size);
  EXPECT_EQ(m.shape().num_heads * size, m.config().num_heads) << "this rank does not hold a head shard";
  EXPECT_EQ(m.shape().num_kv_heads * size, m.config().num_kv_heads);
  model::SafetensorsFile expected(fixture_dir(name) / "expected.safetensors");
  return model::testing::prompt_logits(m, to_vector(expected.load("input_ids", at::kLong, at::kCPU)), chunk);
}

// TP = 1, 2, 4 (every group runs the same fixture) and DP 2 x TP 2 (the two groups run different fixtures at once).
TEST(TensorParallelEngine, LogitsMatchTransformersAndTheUnshardedModel) {
  c10::InferenceMode guard;
  double worst_vs_transformers = 0, worst_vs_unsharded = 0;
  struct Case {
    int tp;
    bool data_parallel;
  };
  for (const Case& c : {Case{1, false}, Case{2, false}, Case{4, false}, Case{2, true}}) {
    Group g = make_group(c.tp);
    const std::vector<std::string> names = fixtures_for(c.tp);
    ASSERT_FALSE(names.empty()) << "no fixture model divides by tp " << c.tp;
    for (size_t i = 0; i < names.size(); ++i) {
      const std::string& name = c.data_parallel ? names[(i + g.index) % names.size()] : names[i];
      SCOPED_TRACE(fmt::format("{} tp {}{} group {}", name, c.tp, c.data_parallel ? " (DP 2)" : "", g.index));
      model::SafetensorsFile expected(fixture_dir(name) / "expected.safetensors");
      const at::Tensor reference = expected.load("logits", at::kFloat, at::kCPU);
      const at::Tensor unsharded = sharded_logits(name, nullptr, 1 << 20);
      for (int64_t chunk : {int64_t{1} << 20, int64_t{5}}) {
        const at::Tensor logits = sharded_logits(name, g.tp.get(), chunk);
        ASSERT_EQ(logits.sizes(), reference.sizes());
        const double vs_transformers = (logits - reference).abs().max().item<double>();
        const double vs_unsharded = (logits - unsharded).abs().max().item<double>();
        EXPECT_LE(vs_transformers, 1e-4) << "chunk " << chunk;
        EXPECT_LE(vs_unsharded, 1e-4) << "chunk " << chunk;
        worst_vs_transformers = std::max(worst_vs_transformers, vs_transformers);
        worst_vs_unsharded = std::max(worst_vs_unsharded, vs_unsharded);
      }
    }
  }
  if (Comm::world().rank() == 0) {
    std::printf("max |logits delta| over all cases on rank 0: vs transformers %.3g, vs unsharded %.3g\n",
                worst_vs_transformers, worst_vs_unsharded);
  }
}

model::InferenceRequest greedy(const std::vector<int64_t>& ids, const std::string& method, const std::string& params,
                               int32_t steps) {
  model::InferenceRequest r;
  r.sample_key = method;
  r.input_ids.assign(ids.begin(), ids.end());
  r.generation.max_new_tokens = steps;
  r.method.name = method;
  r.method.params_json = params;
  return r;
}

std::vector<model::InferenceResult> run_engine(const std::string& name, Communicator* tp,
                                               const std::vector<model::InferenceRequest>& batch) {
  model::EngineOptions options;
  options.model_dir = fixture_dir(name);
  options.device = "cpu";
  options.dtype = "float32";
  options.max_batch_size = static_cast<int32_t>(batch.size());
  return model::create_engine(options, tp, &accel::resolve_policy)->run(batch);
}

// Greedy tokens (a batch of two prompts decoded together) with the full cache, two head-local compression
// methods, AdaKV and ChunkKV (both select over all the group's heads): identical for TP = 1, 2, 4 and DP 2 x TP 2;
// the full cache also matches transformers' greedy tokens.
TEST(TensorParallelEngine, GreedyTokensIdenticalWithAndWithoutCompression) {
  struct Method {
    std::string name, params;
  };
  const std::vector<Method> methods = {{"full", "{}"},
                                       {"snapkv", R"({"compression_ratio": 0.5, "window_size": 4})"},
                                       {"streaming_llm", R"({"compression_ratio": 0.5, "n_sink": 2})"},
                                       {"adakv", R"({"compression_ratio": 0.5, "window_size": 4})"},
                                       {"chunkkv",
                                        R"({"compression_ratio": 0.5, "window_size": 4, "chunk_length": 4})"},
                                       {"criticalkv", R"({"compression_ratio": 0.5, "window_size": 4})"},
                                       {"critical_adakv", R"({"compression_ratio": 0.5, "window_size": 4})"},
                                       {"key_rerotation", R"({"compression_ratio": 0.5, "n_sink": 2})"},
                                       {"decoding",
                                        R"({"scorer": "tova", "compression_interval": 3, "target_size": 8,
                                            "hidden_states_buffer_size": 2})"},
                                       {"decoding",
                                        R"({"scorer": "snapkv", "window_size": 2, "compression_interval": 4,
                                            "target_size": 10, "hidden_states_buffer_size": 3})"}};
  const int32_t steps = 12;
  for (int tp : {2, 4}) {
    Group g = make_group(tp);
    const std::vector<std::string> names = fixtures_for(tp);
    for (size_t i = 0; i < names.size(); i += (tp == 2 ? 3 : 1)) {
      const std::string& name = names[(i + (tp == 2 ? g.index : 0)) % names.size()];
      model::SafetensorsFile expected(fixture_dir(name) / "expected.safetensors");
      const std::vector<int64_t> ids = to_vector(expected.load("input_ids", at::kLong, at::kCPU));
      const std::vector<int64_t> hf_greedy = to_vector(expected.load("greedy", at::kLong, at::kCPU));
      const std::vector<int64_t> shorter(ids.begin(), ids.end() - 5);
      int64_t full_kv_bytes = 0;
      const model::ModelCard card = model::read_model_card(fixture_dir(name));
      bool every_layer_slides = card.sliding_window > 0;
      for (int64_t layer = 0; layer < card.num_layers; ++layer) {
        every_layer_slides = every_layer_slides && model::layer_window(card, layer) > 0;
      }
      bool any_layer_slides = false;
      for (int64_t layer = 0; layer < card.num_layers; ++layer) {
        any_layer_slides = any_layer_slides || model::layer_window(card, layer) > 0;
      }
      for (const Method& m : methods) {
        if (m.name == "key_rerotation" && any_layer_slides) continue;  // refused: sliding layers keep positions
        SCOPED_TRACE(fmt::format("{} tp {} group {} method {}", name, tp, g.index, m.name));
        const std::vector<model::InferenceRequest> batch = {greedy(ids, m.name, m.params, steps),
                                                            greedy(shorter, m.name, m.params, steps)};
        const auto reference = run_engine(name, nullptr, batch);
        const auto sharded = run_engine(name, g.tp.get(), batch);
        ASSERT_EQ(sharded.size(), batch.size());
        for (size_t b = 0; b < batch.size(); ++b) {
          ASSERT_TRUE(reference[b].ok) << reference[b].error;
          ASSERT_TRUE(sharded[b].ok) << sharded[b].error;
          EXPECT_EQ(sharded[b].output_ids, reference[b].output_ids) << "request " << b;
        }
        if (m.name == "full") {
          const std::vector<int64_t> got(sharded[0].output_ids.begin(), sharded[0].output_ids.end());
          EXPECT_EQ(got, std::vector<int64_t>(hf_greedy.begin(), hf_greedy.begin() + got.size()));
          full_kv_bytes = sharded[0].cost.kv_bytes;
        } else if (every_layer_slides || m.name == "decoding") {
          // decoding compresses while decoding; kv_bytes is the cache after the prefill (uncompressed).
          // Methods compress full-attention layers; sliding ones keep their window (sliding_window_cache.h).
          EXPECT_EQ(sharded[0].cost.kv_bytes, full_kv_bytes);
        } else {
          EXPECT_LT(sharded[0].cost.kv_bytes, full_kv_bytes) << "the method did not compress this rank's heads";
        }
      }
    }
  }
}

// Qwen3-MoE (experts sharded over moe_intermediate_size, router replicated): greedy tokens of a 2-prompt batch
// identical for TP 1 and TP 2 (the two TP 2 groups run both fixtures, one each at a time) and equal to transformers'.
// qwen3_moe_legacy's moe_intermediate_size 35 is zero-padded to 2 x 18 columns.
TEST(TensorParallelEngine, MixtureOfExpertsGreedyTokensIdenticalForTp1And2) {
  Group g = make_group(2);
  for (int i = 0; i < 2; ++i) {
    const std::string name = (i + g.index) % 2 == 0 ? "qwen3_moe_tiny" : "qwen3_moe_legacy";
    SCOPED_TRACE(fmt::format("{} group {}", name, g.index));
    model::SafetensorsFile expected(fixture_dir(name) / "expected.safetensors");
    const std::vector<int64_t> ids = to_vector(expected.load("input_ids", at::kLong, at::kCPU));
    const std::vector<int64_t> hf_greedy = to_vector(expected.load("greedy", at::kLong, at::kCPU));
    const std::vector<int64_t> shorter(ids.begin(), ids.end() - 6);
    const std::vector<model::InferenceRequest> batch = {greedy(ids, "full", "{}", 16),
                                                        greedy(shorter, "full", "{}", 16)};
    const auto reference = run_engine(name, nullptr, batch);
    const auto sharded = run_engine(name, g.tp.get(), batch);
    ASSERT_EQ(sharded.size(), batch.size());
    for (size_t b = 0; b < batch.size(); ++b) {
      ASSERT_TRUE(reference[b].ok && sharded[b].ok) << reference[b].error << sharded[b].error;
      EXPECT_EQ(sharded[b].output_ids, reference[b].output_ids) << "request " << b;
    }
    const std::vector<int64_t> got(sharded[0].output_ids.begin(), sharded[0].output_ids.end());
    ASSERT_FALSE(got.empty());
    const auto end = hf_greedy.begin() + static_cast<std::ptrdiff_t>(got.size());
    EXPECT_EQ(got, std::vector<int64_t>(hf_greedy.begin(), end));
  }
}

// LongRoPE (phi3_longrope, original_max_position_embeddings 64) at TP 2: both prompts batched, the 40-token one
// switching from the short to the long factors during its decode, the 80-token one on the long factors: greedy
// tokens equal transformers' (each TP 2 group runs the batch).
TEST(TensorParallelEngine, LongRopeGreedyTokensAcrossTheSwitchAtTp2) {
  Group g = make_group(2);
  const std::string name = "phi3_longrope";
  const model::ModelCard card = model::read_model_card(fixture_dir(name));
  std::vector<model::InferenceRequest> batch;
  std::vector<std::vector<int64_t>> hf_greedy;
  for (const char* file : {"expected_switch.safetensors", "expected.safetensors"}) {
    model::SafetensorsFile expected(fixture_dir(name) / file);
    batch.push_back(greedy(to_vector(expected.load("input_ids", at::kLong, at::kCPU)), "full", "{}", 32));
    hf_greedy.push_back(to_vector(expected.load("greedy", at::kLong, at::kCPU)));
  }
  const auto sharded = run_engine(name, g.tp.get(), batch);
  ASSERT_EQ(sharded.size(), batch.size());
  for (size_t b = 0; b < batch.size(); ++b) {
    SCOPED_TRACE(fmt::format("request {} group {}", b, g.index));
    ASSERT_TRUE(sharded[b].ok) << sharded[b].error;
    std::vector<int64_t> want;  // transformers' continuation ignores EOS; the engine stops there
    for (int64_t id : hf_greedy[b]) {
      if (std::find(card.eos_token_ids.begin(), card.eos_token_ids.end(), id) != card.eos_token_ids.end()) break;
      want.push_back(id);
    }
    EXPECT_EQ(std::vector<int64_t>(sharded[b].output_ids.begin(), sharded[b].output_ids.end()), want);
  }
}

// Embeddings (HiddenStateSource::pooled_hidden_states, `loom_mpi serve`'s /v1/embeddings): every rank of a TP group
// gets the unsharded engine's pooled final hidden states (replicated after the all-reduce), mean and last pooling,
// two prompts sharing one ragged forward.
TEST(TensorParallelEngine, PooledHiddenStatesEqualTheUnshardedOnEveryRank) {
  double worst = 0;
  for (int tp : {2, 4}) {
    Group g = make_group(tp);
    const std::vector<std::string> names = fixtures_for(tp);
    ASSERT_FALSE(names.empty());
    const std::string& name = names.front();
    SCOPED_TRACE(fmt::format("{} tp {} rank {}", name, tp, g.tp->rank()));
    model::EngineOptions options;
    options.model_dir = fixture_dir(name);
    options.device = "cpu";
    options.dtype = "float32";
    const std::vector<std::vector<int32_t>> prompts = {{1, 7, 42, 300, 5, 9, 11}, {1, 200, 3}};
    auto unsharded = model::create_engine(options, nullptr, &accel::resolve_policy);
    auto sharded = model::create_engine(options, g.tp.get(), &accel::resolve_policy);
    ASSERT_NE(sharded->hidden_states(), nullptr);
    EXPECT_EQ(sharded->hidden_states()->hidden_size(), model::read_model_card(fixture_dir(name)).hidden_size);
    for (auto pooling : {model::HiddenPooling::kMean, model::HiddenPooling::kLast}) {
      const auto want = unsharded->hidden_states()->pooled_hidden_states(prompts, pooling);
      const auto got = sharded->hidden_states()->pooled_hidden_states(prompts, pooling);
      ASSERT_EQ(got.size(), prompts.size());
      for (size_t i = 0; i < prompts.size(); ++i) {
        ASSERT_EQ(got[i].size(), want[i].size());
        for (size_t k = 0; k < got[i].size(); ++k) {
          worst = std::max(worst, std::abs(static_cast<double>(got[i][k]) - want[i][k]));
        }
      }
    }
  }
  EXPECT_LE(worst, 1e-5);
  if (Comm::world().rank() == 0) std::printf("max |pooled hidden delta| TP 2, 4 vs unsharded on rank 0: %.3g\n", worst);
}

}  // namespace
}  // namespace loom::parallel

int main(int argc, char** argv) {
  loom::mpi::MpiSession session(&argc, &argv, MPI_THREAD_MULTIPLE);
  ::testing::InitGoogleTest(&argc, argv);
  if (loom::mpi::Comm::world().rank() != 0) {
    auto& listeners = ::testing::UnitTest::GetInstance()->listeners();
    delete listeners.Release(listeners.default_result_printer());
  }
  const int failed = RUN_ALL_TESTS();
  return static_cast<int>(loom::mpi::Comm::world().all_reduce_max(failed));
}
