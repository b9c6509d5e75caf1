// Dense KV cache and attention against a naive softmax(QK^T)V reference (explicit loops over heads and queries).
#include "common/error.h"
#include "kernels/attention.h"
#include "rank/model/attention_policy.h"
#include "rank/model/kv_cache.h"

#include <gtest/gtest.h>

#include <cmath>

namespace loom::model {
namespace {

// out[h, i] = sum_j softmax_j(scale * q[h,i] . k[h/g, j]) v[h/g, j] over j <= T - t_q + i.
at::Tensor naive_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, double scale) {
  const int64_t heads = q.size(0), t_q = q.size(1), total = k.size(1), group = heads / k.size(0);
  at::Tensor out = at::zeros_like(q, at::kDouble);
  at::Tensor qd = q.to(at::kDouble), kd = k.to(at::kDouble), vd = v.to(at::kDouble);
  for (int64_t h = 0; h < heads; ++h) {
    for (int64_t i = 0; i < t_q; ++i) {
      const int64_t visible = total - t_q + i + 1;
      at::Tensor scores = at::mv(kd[h / group].narrow(0, 0, visible), qd[h][i]) * scale;
      at::Tensor probs = at::softmax(scores, 0);
      out[h][i] = at::mv(vd[h / group].narrow(0, 0, visible).t(), probs);
    }
  }
  return out.to(q.scalar_type());
}

class FixedPolicy : public AttentionPolicy {
 public:
  explicit FixedPolicy(PolicyContext context) : AttentionPolicy(std::move(context)) {}
};

TEST(DenseKVCache, PrefillChunksAndDecodeMatchNaiveAttention) {
  at::manual_seed(0);
  const int64_t kv_heads = 2, group = 3, dim = 8, heads = kv_heads * group;
  const double scale = 1.0 / std::sqrt(static_cast<double>(dim));
  auto cache = make_dense_cache(kv_heads, dim, at::kFloat, at::kCPU);
  at::Tensor all_k = at::randn({kv_heads, 0, dim}), all_v = at::randn({kv_heads, 0, dim});
  // Chunks of 5, 7 and 1, 1 (decode), so the mask must handle a prefix.
  for (int64_t chunk : {5, 7, 1, 1}) {
    at::Tensor k = at::randn({kv_heads, chunk, dim}), v = at::randn({kv_heads, chunk, dim});
    at::Tensor q = at::randn({heads, chunk, dim});
    cache->append(k, v);
    all_k = at::cat({all_k, k}, 1);
    all_v = at::cat({all_v, v}, 1);
    at::Tensor got = cache->attend(q, scale);
    at::Tensor want = naive_attention(q, all_k, all_v, scale);
    ASSERT_EQ(got.sizes(), want.sizes());
    EXPECT_LT((got - want).abs().max().item<double>(), 1e-5) << "chunk " << chunk;
  }
  EXPECT_EQ(cache->logical_length(), 14);
  EXPECT_EQ(cache->stored_tokens(1), 14);
  auto [keys, values] = cache->dense();
  EXPECT_TRUE(at::equal(keys, all_k));
  EXPECT_TRUE(at::equal(values, all_v));
  EXPECT_GE(cache->bytes(), 2 * kv_heads * 14 * dim * 4);
}

TEST(DenseKVCache, ReserveAvoidsGrowthAndBytesCountCapacity) {
  auto cache = make_dense_cache(1, 4, at::kFloat, at::kCPU, /*reserve_tokens=*/100);
  EXPECT_EQ(cache->bytes(), 0);
  cache->append(at::ones({1, 3, 4}), at::ones({1, 3, 4}));
  EXPECT_EQ(cache->bytes(), 2 * 100 * 4 * 4);
  cache->append(at::ones({1, 98, 4}), at::ones({1, 98, 4}));
  EXPECT_EQ(cache->bytes(), 2 * 200 * 4 * 4);  // doubled
  EXPECT_EQ(cache->logical_length(), 101);
}

TEST(DenseKVCache, RejectsWrongShapes) {
  auto cache = make_dense_cache(2, 4, at::kFloat, at::kCPU);
  EXPECT_THROW(cache->append(at::ones({3, 1, 4}), at::ones({3, 1, 4})), loom::Error);
  EXPECT_THROW(cache->append(at::ones({2, 1, 4}), at::ones({2, 2, 4})), loom::Error);
}

TEST(Attention, ReferenceBlocksLongQueryRuns) {
  // Enough queries that the reference splits them into several blocks only if the limit were tiny; check the
  // single-block and the whole-sequence causal case against the naive loop.
  at::manual_seed(1);
  at::Tensor q = at::randn({4, 33, 16}), k = at::randn({2, 33, 16}), v = at::randn({2, 33, 16});
  at::Tensor got = kernels::causal_tail_attention(q, k, v, 0.25);
  EXPECT_LT((got - naive_attention(q, k, v, 0.25)).abs().max().item<double>(), 1e-5);
}

TEST(AttentionPolicy, DefaultMakeCacheIsDenseWithContextShape) {
  PolicyContext context;
  context.shape.num_kv_heads = 2;
  context.shape.head_dim = 4;
  context.shape.num_heads = 4;
  context.reserve_tokens = 10;
  FixedPolicy policy(context);
  auto cache = policy.make_cache(0);
  cache->append(at::ones({2, 1, 4}), at::ones({2, 1, 4}));
  EXPECT_EQ(cache->bytes(), 2 * 2 * 10 * 4 * 4);
  at::Tensor out = cache->attend(at::ones({4, 1, 4}), 0.5);
  EXPECT_TRUE(at::allclose(out, at::ones({4, 1, 4})));
}

}  // namespace
}  // namespace loom::model
