// FlexPrefill / XAttention block masks equal the reference re-statements of their official code
// (tools/fixtures/make_accel_fixtures.py), for a whole prompt and for a later chunk of a chunked prefill; the
// block-sparse attention the policy returns equals the framework-free reference on the same mask.
#include "fixture_inputs.h"

#include "kernels/accel/reference_attention.h"
#include "rank/accel/sparse_prefill_policy.h"

#include <c10/core/InferenceMode.h>
#include <gtest/gtest.h>

#include <cmath>

namespace loom::accel::testing {
namespace {

TEST(AccelSparsePrefill, BlockMasksEqualReference) {
  c10::InferenceMode guard;
  const nlohmann::json fixture = load_fixture("sparse_prefill.json");
  ASSERT_EQ(fixture["cases"].size(), 5u);
  for (const auto& c : fixture["cases"]) {
    SCOPED_TRACE(c["name"].get<std::string>());
    const auto shape = c["shape"].get<std::vector<int64_t>>();
    const int64_t heads = shape[0], kv_heads = shape[1], total = shape[2], dim = shape[3];
    const int64_t t_q = c["t_q"];
    MethodSpec spec;
    spec.name = c["method"];
    spec.params_json = c["params"].dump();
    auto policy = resolve_policy(spec)->create(make_context(heads, kv_heads, dim, 1));
    auto* sparse = dynamic_cast<SparsePrefillPolicy*>(policy.get());
    ASSERT_NE(sparse, nullptr);
    ASSERT_TRUE(sparse->replaces_prefill_attention());
    Inputs in = make_inputs(c["seed"].get<uint64_t>(), heads, kv_heads, total, dim);
    at::Tensor queries = in.queries.narrow(1, total - t_q, t_q).contiguous();
    at::Tensor mask = sparse->block_mask(queries, in.keys);
    ASSERT_TRUE(mask.defined());
    const int64_t first = c["first_block"];
    const auto rows = c["rows"];
    int64_t selected = 0;
    for (int64_t h = 0; h < heads; ++h) {
      for (size_t r = 0; r < rows[h].size(); ++r) {
        const auto expected = rows[h][r].get<std::vector<int>>();
        for (size_t kb = 0; kb < expected.size(); ++kb) {
          EXPECT_EQ(mask[h][first + static_cast<int64_t>(r)][kb].item<bool>(), expected[kb] != 0)
              << "head " << h << " row " << first + static_cast<int64_t>(r) << " block " << kb;
          selected += expected[kb];
        }
      }
    }
    EXPECT_GT(selected, 0);

    // The policy's attention on this mask equals the plain reference.
    model::PrefillAttentionInput input;
    input.queries = queries;
    input.keys = in.keys;
    input.values = in.values;
    input.scale = 1.0 / std::sqrt(static_cast<double>(dim));
    EXPECT_EQ(policy->prefill_block_density(), 1.0);  // nothing computed yet
    at::Tensor out = policy->prefill_attention(input);
    ASSERT_TRUE(out.defined());
    // Density = selected blocks / causal blocks of the chunk's query rows.
    double causal = 0;
    for (size_t r = 0; r < rows[0].size(); ++r) causal += static_cast<double>(first + static_cast<int64_t>(r) + 1);
    EXPECT_NEAR(policy->prefill_block_density(), static_cast<double>(selected) / (causal * heads), 1e-12);
    const int64_t block = c["params"]["block_size"];
    at::Tensor mask_bytes = mask.to(at::kByte).contiguous();
    const int64_t nb = mask.size(1);
    for (int64_t h = 0; h < heads; ++h) {
      at::Tensor q = queries[h].contiguous();
      at::Tensor k = in.keys[h / (heads / kv_heads)].contiguous();
      at::Tensor v = in.values[h / (heads / kv_heads)].contiguous();
      at::Tensor expected = at::empty({t_q, dim}, at::kFloat);
      kernels::accel::BlockSparseReferenceParams reference;
      reference.q = q.data_ptr<float>();
      reference.keys = k.data_ptr<float>();
      reference.values = v.data_ptr<float>();
      reference.block_mask = mask_bytes[h].data_ptr<uint8_t>();
      reference.out = expected.data_ptr<float>();
      reference.t_q = t_q;
      reference.q_start = total - t_q;
      reference.total_len = total;
      reference.head_dim = dim;
      reference.block_size = block;
      reference.scale = static_cast<float>(input.scale);
      kernels::accel::block_sparse_attention_reference(reference);
      EXPECT_TRUE(at::allclose(out[h], expected, 1e-4, 1e-5)) << "head " << h;
      (void)nb;
    }
  }
}

TEST(AccelSparsePrefill, XAttentionSlicedEstimateEqualsWhole) {
  c10::InferenceMode guard;
  Inputs in = make_inputs(7, 4, 2, 700, 32);
  at::Tensor queries = in.queries.narrow(1, 700 - 450, 450).contiguous();
  XAttentionSettings whole;
  whole.block_size = 32;
  whole.stride = 8;
  XAttentionSettings sliced = whole;
  sliced.estimate_slice_bytes = 1;  // one query block per slice
  at::Tensor a = xattention_block_mask(queries, in.keys, whole);
  at::Tensor b = xattention_block_mask(queries, in.keys, sliced);
  EXPECT_TRUE(at::equal(a, b));
  EXPECT_GT(a.sum().item<int64_t>(), 0);
}

TEST(AccelSparsePrefill, ShortChunksStayDense) {
  c10::InferenceMode guard;
  MethodSpec spec;
  spec.name = "flexprefill";
  auto policy = resolve_policy(spec)->create(make_context(4, 2, 32, 1));
  Inputs in = make_inputs(3, 4, 2, 200, 32);
  model::PrefillAttentionInput input;
  input.queries = in.queries;
  input.keys = in.keys;
  input.values = in.values;
  input.scale = 0.2;
  EXPECT_FALSE(policy->prefill_attention(input).defined());  // 200 <= max(2 * 128, 512)
  EXPECT_EQ(policy->prefill_block_density(), 1.0);             // a dense chunk computes every causal block
}

}  // namespace
}  // namespace loom::accel::testing
