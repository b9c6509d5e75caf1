// Qwen3-MoE's sparse blocks (sparse_moe.h): the grouped-by-expert computation against a per-token reference, the
// two checkpoint layouts giving the same model, load errors naming the tensor, bf16 against transformers' bf16, and
// batched decode through routed layers. fp32 logits, greedy tokens and chunked prefill against transformers are in
// engine_fixture_test (qwen3_moe_tiny, qwen3_moe_legacy), TP 1/2 in tests/parallel/tp_engine_test.cpp.
#include "common/error.h"
#include "model_card/model_card.h"
#include "model_test_util.h"
#include "rank/model/inference_engine.h"
#include "rank/model/sparse_moe.h"
#include "rank/model/weight_store.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace loom::model {
namespace {

using testing::fixture_dir;
using testing::to_vector;

// Token by token: softmax over all experts, top k, optional renormalisation, then the k experts' gated MLPs
// weighted and summed in ascending expert order.
at::Tensor per_token_reference(const at::Tensor& x, const SparseMoeWeights& w) {
  at::Tensor out = at::zeros_like(x);
  for (int64_t t = 0; t < x.size(0); ++t) {
    at::Tensor probs = at::softmax(at::matmul(w.router, x[t]), 0);
    auto [top, experts] = at::topk(probs, w.top_k);
    if (w.norm_topk_prob) top = top / top.sum();
    auto [sorted, order] = at::sort(experts);
    for (int64_t j = 0; j < w.top_k; ++j) {
      const int64_t e = sorted[j].item<int64_t>();
      const int64_t inter = w.down.size(2);
      at::Tensor gate_up = at::matmul(w.gate_up[e], x[t]);
      at::Tensor h = at::silu(gate_up.narrow(0, 0, inter)) * gate_up.narrow(0, inter, inter);
      out[t] += at::matmul(w.down[e], h) * top[order[j].item<int64_t>()];
    }
  }
  return out;
}

TEST(SparseMoe, GroupedByExpertEqualsPerTokenReference) {
  c10::InferenceMode guard;
  at::manual_seed(11);
  struct Case {
    int64_t rows, experts, top_k;
    bool norm;
  };
  for (const Case& c : {Case{37, 6, 2, true}, Case{37, 6, 2, false}, Case{1, 6, 3, true}, Case{3, 16, 1, false},
                        Case{64, 8, 8, true}}) {
    SCOPED_TRACE(::testing::Message() << "rows " << c.rows << " experts " << c.experts << " top " << c.top_k);
    SparseMoeWeights w;
    w.router = at::randn({c.experts, 16});
    w.gate_up = at::randn({c.experts, 20, 16}) * 0.3;
    w.down = at::randn({c.experts, 16, 10}) * 0.3;
    w.top_k = c.top_k;
    w.norm_topk_prob = c.norm;
    const at::Tensor x = at::randn({c.rows, 16});
    const at::Tensor got = sparse_moe(x, w);
    const at::Tensor want = per_token_reference(x, w);
    ASSERT_EQ(got.sizes(), want.sizes());
    EXPECT_LE((got - want).abs().max().item<double>(), 1e-5);
  }
}

// Off CUDA (and in this CPU build) the grouped experts are never chosen: sparse_moe is the per-expert computation,
// and a model with sparse layers reports its MLPs as not capturable in a CUDA graph (decode_graphs.h), a dense one
// as capturable. The grouped path itself runs only on a GPU: bench/engine_kernels section 7.
TEST(SparseMoe, PerExpertPathOffCudaAndCaptureRefusedForIt) {
  c10::InferenceMode guard;
  at::manual_seed(5);
  SparseMoeWeights w;
  w.router = at::randn({8, 16}).to(at::kBFloat16);
  w.gate_up = (at::randn({8, 32, 16}) * 0.3).to(at::kBFloat16);
  w.down = (at::randn({8, 16, 16}) * 0.3).to(at::kBFloat16);
  w.top_k = 2;
  EXPECT_FALSE(grouped_experts_supported(w));
  const at::Tensor x = at::randn({9, 16}).to(at::kBFloat16);
  EXPECT_TRUE(at::equal(sparse_moe(x, w), sparse_moe_per_expert(x, w)));
  EXPECT_THROW(sparse_moe_grouped(x, w), std::exception);

  WeightStore moe_weights(fixture_dir("qwen3_moe_tiny"));
  DecoderModel moe(read_model_card(fixture_dir("qwen3_moe_tiny")), moe_weights, at::kBFloat16, at::kCPU);
  EXPECT_FALSE(moe.mlp_capturable());
  WeightStore dense_weights(fixture_dir("qwen3_tiny"));
  DecoderModel dense(read_model_card(fixture_dir("qwen3_tiny")), dense_weights, at::kFloat, at::kCPU);
  EXPECT_TRUE(dense.mlp_capturable());
}

// The fused 5.x tensors of qwen3_moe_tiny rewritten one per expert and projection (the Qwen release layout).
std::filesystem::path per_expert_copy(const std::string& dir_name, const std::string& drop = "") {
  const std::filesystem::path dir = std::filesystem::temp_directory_path() / dir_name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  std::filesystem::copy_file(fixture_dir("qwen3_moe_tiny") / "config.json", dir / "config.json");
  SafetensorsFile file(fixture_dir("qwen3_moe_tiny") / "model.safetensors");
  std::map<std::string, testing::RawTensor> out;
  auto raw = [](const at::Tensor& t) {
    at::Tensor c = t.contiguous();
    return testing::RawTensor{"BF16", c.sizes().vec(),
                              std::string(static_cast<const char*>(c.data_ptr()), c.numel() * c.element_size())};
  };
  const std::string fused = "mlp.experts.gate_up_proj", down = "mlp.experts.down_proj";
  for (const auto& [name, entry] : file.entries()) {
    const at::Tensor t = file.view(name);
    if (name.size() > fused.size() && name.compare(name.size() - fused.size(), fused.size(), fused) == 0) {
      const std::string layer = name.substr(0, name.size() - fused.size());
      const int64_t inter = t.size(1) / 2;
      for (int64_t e = 0; e < t.size(0); ++e) {
        out[layer + "mlp.experts." + std::to_string(e) + ".gate_proj.weight"] = raw(t[e].narrow(0, 0, inter));
        out[layer + "mlp.experts." + std::to_string(e) + ".up_proj.weight"] = raw(t[e].narrow(0, inter, inter));
      }
    } else if (name.size() > down.size() && name.compare(name.size() - down.size(), down.size(), down) == 0) {
      const std::string layer = name.substr(0, name.size() - down.size());
      for (int64_t e = 0; e < t.size(0); ++e) {
        out[layer + "mlp.experts." + std::to_string(e) + ".down_proj.weight"] = raw(t[e]);
      }
    } else {
      out[name] = raw(t);
    }
  }
  EXPECT_GT(out.size(), file.entries().size());
  if (!drop.empty()) EXPECT_EQ(out.erase(drop), 1u) << drop;
  testing::write_safetensors(dir / "model.safetensors", out);
  return dir;
}

at::Tensor fixture_logits(const std::filesystem::path& dir, const std::vector<int64_t>& ids) {
  WeightStore weights(dir);
  DecoderModel model(read_model_card(dir), weights, at::kFloat, at::kCPU);
  return testing::prompt_logits(model, ids, 1 << 20);
}

TEST(SparseMoe, PerExpertAndFusedLayoutsLoadTheSameModel) {
  c10::InferenceMode guard;
  SafetensorsFile expected(fixture_dir("qwen3_moe_tiny") / "expected.safetensors");
  const std::vector<int64_t> ids = to_vector(expected.load("input_ids", at::kLong, at::kCPU));
  ASSERT_TRUE(WeightStore(fixture_dir("qwen3_moe_tiny")).contains("model.layers.0.mlp.experts.gate_up_proj"));
  const std::filesystem::path dir = per_expert_copy("loom_qwen3_moe_per_expert");
  ASSERT_TRUE(WeightStore(dir).contains("model.layers.2.mlp.experts.7.up_proj.weight"));
  const at::Tensor fused = fixture_logits(fixture_dir("qwen3_moe_tiny"), ids);
  const at::Tensor per_expert = fixture_logits(dir, ids);
  EXPECT_TRUE(at::equal(fused, per_expert));
  EXPECT_LE((per_expert - expected.load("logits", at::kFloat, at::kCPU)).abs().max().item<double>(), 1e-4);
  std::filesystem::remove_all(dir);
}

// What the loader says when a block's tensors are missing or mis-shaped: the tensor's name.
TEST(SparseMoe, MissingOrMisshapedExpertTensorsAreNamed) {
  c10::InferenceMode guard;
  const std::string missing = "model.layers.2.mlp.experts.5.up_proj.weight";
  const std::filesystem::path dir = per_expert_copy("loom_qwen3_moe_missing", missing);
  try {
    fixture_logits(dir, {1, 2, 3});
    ADD_FAILURE() << "no InputError";
  } catch (const InputError& e) {
    EXPECT_EQ(e.key(), missing);
    EXPECT_NE(std::string(e.what()).find("missing tensor"), std::string::npos) << e.what();
  }
  std::filesystem::remove_all(dir);
  // A fused gate_up_proj of 7 experts where config.json says 8.
  std::filesystem::create_directories(dir);
  std::filesystem::copy_file(fixture_dir("qwen3_moe_tiny") / "config.json", dir / "config.json");
  auto tensors = testing::read_raw(fixture_dir("qwen3_moe_tiny") / "model.safetensors");
  testing::RawTensor& fused = tensors.at("model.layers.0.mlp.experts.gate_up_proj");
  fused.shape[0] = 7;
  fused.bytes.resize(fused.bytes.size() / 8 * 7);
  testing::write_safetensors(dir / "model.safetensors", tensors);
  try {
    fixture_logits(dir, {1, 2, 3});
    ADD_FAILURE() << "no InputError";
  } catch (const InputError& e) {
    EXPECT_EQ(e.key(), "model.layers.0.mlp.experts.gate_up_proj");
    EXPECT_NE(std::string(e.what()).find("wrong shape [7, 96, 64]"), std::string::npos) << e.what();
  }
  std::filesystem::remove_all(dir);
}

// bf16 both sides (transformers' eager bf16 against ours): within 5 % of the largest logit, same top token.
TEST(SparseMoe, Bf16LogitsWithinToleranceOfTransformersBf16) {
  c10::InferenceMode guard;
  for (const std::string name : {"qwen3_moe_tiny", "qwen3_moe_legacy"}) {
    SafetensorsFile file(fixture_dir(name) / "expected.safetensors");
    const std::vector<int64_t> ids = to_vector(file.load("input_ids", at::kLong, at::kCPU));
    const at::Tensor expected = file.load("logits_bf16", at::kFloat, at::kCPU);
    WeightStore weights(fixture_dir(name));
    DecoderModel model(read_model_card(fixture_dir(name)), weights, at::kBFloat16, at::kCPU);
    const at::Tensor logits = testing::prompt_logits(model, ids, 1 << 20);
    const double scale = expected.abs().max().item<double>();
    const double delta = (logits - expected).abs().max().item<double>();
    std::printf("%s bf16: max |delta| %.4f, max |logit| %.3f\n", name.c_str(), delta, scale);
    EXPECT_LE(delta, 0.05 * scale) << name;
    EXPECT_EQ(logits.argmax().item<int64_t>(), expected.argmax().item<int64_t>()) << name;
  }
}

// Three prompts decoding together (routing over a batch of rows in every step) give each one's greedy tokens alone.
TEST(SparseMoe, BatchedDecodeEqualsSingleRuns) {
  SafetensorsFile expected(fixture_dir("qwen3_moe_legacy") / "expected.safetensors");
  const std::vector<int64_t> ids = to_vector(expected.load("input_ids", at::kLong, at::kCPU));
  EngineOptions options;
  options.model_dir = fixture_dir("qwen3_moe_legacy");
  options.device = "cpu";
  options.dtype = "float32";
  options.max_batch_size = 3;
  auto engine = create_engine(options, nullptr, nullptr);
  std::vector<InferenceRequest> batch;
  for (size_t length : {7u, 21u, 13u}) {
    InferenceRequest r;
    r.sample_key = std::to_string(length);
    r.input_ids.assign(ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(length));
    r.generation.max_new_tokens = 12;
    batch.push_back(r);
  }
  const auto together = engine->run(batch);
  ASSERT_EQ(together.size(), batch.size());
  for (size_t i = 0; i < batch.size(); ++i) {
    const auto alone = engine->run({batch[i]});
    ASSERT_TRUE(together[i].ok && alone[0].ok) << together[i].error << alone[0].error;
    EXPECT_EQ(together[i].output_ids, alone[0].output_ids) << "request " << i;
  }
}

}  // namespace
}  // namespace loom::model
