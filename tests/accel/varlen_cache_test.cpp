// PerHeadVarlenCache: attention equals the plain varlen reference and dense attention over each head's kept
// tokens; appends grow every head; retain() shrinks memory; bytes() reflects what is stored.
#include "fixture_inputs.h"

#include "common/error.h"

#include "kernels/accel/reference_attention.h"
#include "rank/accel/varlen_kv_cache.h"

#include <c10/core/InferenceMode.h>
#include <gtest/gtest.h>

namespace loom::accel::testing {
namespace {

std::vector<at::Tensor> kept_lists() {
  return {at::tensor(std::vector<int64_t>{0, 3, 5, 9, 10, 31}), at::tensor(std::vector<int64_t>{1, 2, 30, 31}),
          at::arange(0, 32, 2, at::kLong)};
}

TEST(AccelVarlenCache, DecodeAttentionEqualsReference) {
  c10::InferenceMode guard;
  const int64_t kv = 3, group = 2, total = 32, dim = 16;
  at::Tensor keys = random_tensor(1, {kv, total, dim}, 1.0f);
  at::Tensor values = random_tensor(2, {kv, total, dim}, 1.0f);
  auto cache = PerHeadVarlenCache::from_selection(keys, values, kept_lists(), total, 4);
  EXPECT_EQ(cache->stored_tokens(0), 6);
  EXPECT_EQ(cache->stored_tokens(1), 4);
  EXPECT_EQ(cache->stored_tokens(2), 16);
  // One decode step: append a token to every head, then attend with one query per head.
  at::Tensor new_keys = random_tensor(3, {kv, 1, dim}, 1.0f);
  at::Tensor new_values = random_tensor(4, {kv, 1, dim}, 1.0f);
  cache->append(new_keys, new_values);
  EXPECT_EQ(cache->logical_length(), total + 1);
  EXPECT_EQ(to_lists({cache->positions(1)})[0], (std::vector<int64_t>{1, 2, 30, 31, 32}));
  at::Tensor q = random_tensor(5, {kv * group, 1, dim}, 1.0f);
  at::Tensor out = cache->attend(q, 0.25);

  std::vector<at::Tensor> rows_k, rows_v;
  std::vector<int64_t> offsets, lengths;
  int64_t offset = 0;
  for (int64_t h = 0; h < kv; ++h) {
    rows_k.push_back(cache->head_keys(h));
    rows_v.push_back(cache->head_values(h));
    offsets.push_back(offset);
    lengths.push_back(cache->stored_tokens(h));
    offset += cache->stored_tokens(h);
  }
  at::Tensor packed_k = at::cat(rows_k).contiguous();
  at::Tensor packed_v = at::cat(rows_v).contiguous();
  at::Tensor qc = q.reshape({kv * group, dim}).contiguous();
  at::Tensor expected = at::empty({kv * group, dim}, at::kFloat);
  kernels::accel::VarlenDecodeReferenceParams reference;
  reference.q = qc.data_ptr<float>();
  reference.keys = packed_k.data_ptr<float>();
  reference.values = packed_v.data_ptr<float>();
  reference.offsets = offsets.data();
  reference.lengths = lengths.data();
  reference.out = expected.data_ptr<float>();
  reference.num_heads = kv * group;
  reference.num_kv_heads = kv;
  reference.head_dim = dim;
  reference.scale = 0.25f;
  kernels::accel::varlen_decode_attention_reference(reference);
  EXPECT_TRUE(at::allclose(out.reshape({kv * group, dim}), expected, 1e-5, 1e-6));
  // The last stored row of each head is the appended token.
  EXPECT_TRUE(at::equal(cache->head_keys(2)[-1], new_keys[2][0]));
}

TEST(AccelVarlenCache, GrowsRetainsAndCountsBytes) {
  c10::InferenceMode guard;
  const int64_t kv = 3, total = 32, dim = 16;
  at::Tensor keys = random_tensor(6, {kv, total, dim}, 1.0f);
  at::Tensor values = random_tensor(7, {kv, total, dim}, 1.0f);
  auto cache = PerHeadVarlenCache::from_selection(keys, values, kept_lists(), total, 2);
  const int64_t before = cache->bytes();
  EXPECT_EQ(before, 2 * (26 + 3 * 2) * dim * 4 + (26 + 3 * 2) * 4);
  for (int step = 0; step < 5; ++step) {
    cache->append(random_tensor(10 + step, {kv, 1, dim}, 1.0f), random_tensor(20 + step, {kv, 1, dim}, 1.0f));
  }
  EXPECT_EQ(cache->stored_tokens(1), 4 + 5);
  EXPECT_GT(cache->bytes(), before);
  EXPECT_TRUE(at::equal(cache->head_keys(0).narrow(0, 0, 6), keys[0].index_select(0, kept_lists()[0])));
  const int64_t grown = cache->bytes();
  cache->retain(2, at::tensor(std::vector<int64_t>{0, 1, 2}));
  EXPECT_EQ(cache->stored_tokens(2), 3);
  EXPECT_EQ(to_lists({cache->positions(2)})[0], (std::vector<int64_t>{0, 2, 4}));
  EXPECT_LT(cache->bytes(), grown);
  EXPECT_THROW(cache->dense(), loom::Error);  // heads differ in length
}

}  // namespace
}  // namespace loom::accel::testing
