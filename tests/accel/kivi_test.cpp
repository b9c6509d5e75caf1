// KIVI: the quantized cache's dequantized keys/values equal KIVI's quantize/dequantize (fixture from
// tools/fixtures/make_accel_fixtures.py), after prefill and after decode steps that flush the residual windows;
// the packed cache is really smaller; the framework-free group quantizer round-trips within half a step.
#include "fixture_inputs.h"

#include "kernels/accel/kivi_quant.h"
#include "rank/accel/kivi_kv_cache.h"

#include <c10/core/InferenceMode.h>
#include <gtest/gtest.h>

namespace loom::accel::testing {
namespace {

at::Tensor sample(const at::Tensor& x) { return x.slice(1, 0, x.size(1), 7).slice(2, 0, x.size(2), 5).flatten(); }

TEST(AccelKivi, DequantizedValuesEqualReference) {
  c10::InferenceMode guard;
  const nlohmann::json fixture = load_fixture("kivi.json");
  ASSERT_EQ(fixture["cases"].size(), 2u);
  for (const auto& c : fixture["cases"]) {
    SCOPED_TRACE(c["name"].get<std::string>());
    const auto shape = c["shape"].get<std::vector<int64_t>>();
    const int64_t heads = shape[0], kv_heads = shape[1], total = shape[2], dim = shape[3];
    const int64_t steps = c["decode_steps"];
    MethodSpec spec;
    spec.name = "kivi";
    spec.params_json = c["params"].dump();
    auto policy = resolve_policy(spec)->create(make_context(heads, kv_heads, dim, 1));
    Inputs in = make_inputs(c["seed"].get<uint64_t>(), heads, kv_heads, total + steps, dim);
    auto dense = dense_cache(in.keys.narrow(1, 0, total), in.values.narrow(1, 0, total));
    const int64_t dense_bytes = dense->bytes();
    model::PrefillSummary summary;
    summary.prompt_length = total;
    auto cache = policy->finish_prefill(std::move(dense), summary);
    auto* kivi = dynamic_cast<KiviCache*>(cache.get());
    ASSERT_NE(kivi, nullptr);
    EXPECT_LT(kivi->bytes(), dense_bytes);
    for (int64_t s = 0; s < steps; ++s) {
      kivi->append(in.keys.narrow(1, total + s, 1), in.values.narrow(1, total + s, 1));
    }
    EXPECT_EQ(kivi->logical_length(), total + steps);
    at::Tensor keys = kivi->dequantized_keys();
    at::Tensor values = kivi->dequantized_values();
    EXPECT_TRUE(at::equal(sample(keys), at::tensor(c["key_sample"].get<std::vector<float>>())));
    EXPECT_TRUE(at::equal(sample(values), at::tensor(c["value_sample"].get<std::vector<float>>())));
    EXPECT_NEAR(keys.to(at::kDouble).abs().sum().item<double>(), c["key_checksum"].get<double>(), 1e-6 * c["key_checksum"].get<double>());
    EXPECT_NEAR(values.to(at::kDouble).abs().sum().item<double>(), c["value_checksum"].get<double>(),
                1e-6 * c["value_checksum"].get<double>());
    // Decode attention over the quantized cache equals dense attention over the dequantized tensors.
    at::Tensor q = random_tensor(99, {heads, 1, dim}, 1.0f);
    at::Tensor out = kivi->attend(q, 0.25);
    at::Tensor logits = at::matmul(q.reshape({kv_heads, heads / kv_heads, dim}), keys.transpose(1, 2)) * 0.25;
    at::Tensor expected = at::matmul(at::softmax(logits, -1), values).reshape({heads, 1, dim});
    EXPECT_TRUE(at::allclose(out, expected, 1e-4, 1e-5));
  }
}

TEST(AccelKivi, GroupQuantizerRoundTripsWithinHalfAStep) {
  at::Tensor x = random_tensor(7, {64, 32}, 3.0f);
  for (int bits : {2, 4, 8}) {
    std::vector<uint8_t> packed(64 * kernels::accel::kivi_group_bytes(32, bits));
    std::vector<float> scales(64), mins(64), out(64 * 32);
    kernels::accel::kivi_quantize_groups(
        {x.data_ptr<float>(), packed.data(), scales.data(), mins.data(), 64, 32, bits});
    kernels::accel::kivi_dequantize_groups({packed.data(), scales.data(), mins.data(), out.data(), 64, 32, bits});
    for (int64_t g = 0; g < 64; ++g) {
      for (int64_t i = 0; i < 32; ++i) {
        EXPECT_LE(std::abs(out[g * 32 + i] - x[g][i].item<float>()), scales[g] * 0.5f + 1e-5f) << bits << " bits";
      }
    }
  }
}

}  // namespace
}  // namespace loom::accel::testing
