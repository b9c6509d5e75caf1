// PagedKVStore and the paged decode attention (CPU reference path): page accounting (tokens -> pages, release,
// budget refusals, a page only at page boundaries), attention over pages equal to dense attention over the same
// rows (GQA, heads of different lengths, several slots, padding entries), append then attend, and the CPU pool
// growing past its first allocation.
#include "kernels/attention.h"
#include "kernels/paged_attention.h"
#include "rank/model/paged_kv_store.h"

#include <gtest/gtest.h>

using namespace loom;
using namespace loom::model;

namespace {

PagedKVOptions small_options(int64_t budget_pages = 1000) {
  PagedKVOptions o;
  o.num_layers = 2;
  o.num_kv_heads = 2;
  o.head_dim = 8;
  o.page_size = 4;
  o.max_slots = 3;
  o.max_row_tokens = 64;
  o.dtype = at::kFloat;
  o.device = at::kCPU;
  o.budget_bytes = budget_pages * 2 * 4 * 8 * 4;
  return o;
}

std::vector<std::pair<at::Tensor, at::Tensor>> rows(const std::vector<int64_t>& lengths, int64_t dim) {
  std::vector<std::pair<at::Tensor, at::Tensor>> out;
  for (int64_t n : lengths) out.emplace_back(at::randn({n, dim}), at::randn({n, dim}));
  return out;
}

TEST(PagedKVStore, PagesFollowTokensAndComeBackOnRelease) {
  PagedKVStore store(small_options());
  EXPECT_EQ(store.page_bytes(), 2 * 4 * 8 * 4);
  EXPECT_EQ(store.pages_for_row(0), 0);
  EXPECT_EQ(store.pages_for_row(4), 1);
  EXPECT_EQ(store.pages_for_row(5), 2);
  EXPECT_EQ(store.pages_for_sequence(9), 2 * 2 * 3);
  const int32_t slot = store.acquire_slot();
  store.load(slot, 0, rows({9, 4}, 8));  // 3 + 1 pages
  store.load(slot, 1, rows({1, 0}, 8));  // 1 + 0 pages
  EXPECT_EQ(store.used_pages(), 5);
  EXPECT_EQ(store.slot_pages(slot), 5);
  EXPECT_EQ(store.row_tokens(slot, 0, 0), 9);
  EXPECT_EQ(store.slot_token_bytes(slot), 2 * (9 + 4 + 1) * 8 * 4);
  // Next token: row (0,0) holds 9 of 12 -> no page; (0,1) holds 4 of 4 -> a page; (1,0) 1 of 4; (1,1) 0 of 0 -> a page.
  EXPECT_EQ(store.prepare_append(slot), 2);
  EXPECT_EQ(store.used_pages(), 7);
  EXPECT_EQ(store.prepare_append(slot), 0);  // nothing appended yet: already prepared
  store.release(slot);
  EXPECT_EQ(store.used_pages(), 0);
  EXPECT_EQ(store.free_slots(), 3);
}

TEST(PagedKVStore, RefusesWhatTheBudgetCannotHold) {
  PagedKVStore store(small_options(4));
  const int32_t slot = store.acquire_slot();
  EXPECT_THROW(store.load(slot, 0, rows({12, 8}, 8)), std::runtime_error);  // 3 + 2 pages > 4
  EXPECT_EQ(store.used_pages(), 0);
  store.load(slot, 0, rows({8, 8}, 8));  // 4 pages
  EXPECT_EQ(store.free_pages(), 0);
  EXPECT_EQ(store.prepare_append(slot), -1);  // both rows need a page, none left
  EXPECT_EQ(store.used_pages(), 4);
  // A row longer than a slot may hold.
  const int32_t other = store.acquire_slot();
  EXPECT_THROW(store.load(other, 0, rows({65, 1}, 8)), std::exception);
}

// Dense reference: per KV head, causal_tail_attention_reference of its query group over its rows.
at::Tensor dense_attention(const at::Tensor& q, const std::vector<std::pair<at::Tensor, at::Tensor>>& head_rows,
                           double scale) {
  const int64_t kv_heads = static_cast<int64_t>(head_rows.size()), group = q.size(0) / kv_heads;
  std::vector<at::Tensor> out;
  for (int64_t h = 0; h < kv_heads; ++h) {
    out.push_back(kernels::causal_tail_attention_reference(q.narrow(0, h * group, group).unsqueeze(1),
                                                           head_rows[h].first.unsqueeze(0),
                                                           head_rows[h].second.unsqueeze(0), scale)
                      .squeeze(1));
  }
  return at::cat(out);
}

TEST(PagedAttention, EqualsDenseAttentionOverTheSameRows) {
  at::manual_seed(3);
  PagedKVOptions o = small_options();
  PagedKVStore store(o);
  const int32_t a = store.acquire_slot(), b = store.acquire_slot();
  auto rows_a = rows({5, 13}, 8), rows_b = rows({1, 4}, 8);
  store.load(a, 1, rows_a);
  store.load(b, 1, rows_b);
  const double scale = 0.3;
  at::Tensor q = at::randn({3, 6, 8});  // entries: slot b, padding, slot a; 6 query heads over 2 KV heads
  at::Tensor slot_of = at::tensor(std::vector<int32_t>{b, -1, a}, at::kInt);
  at::Tensor out = kernels::paged_decode_attention(store.layer(1), q, slot_of, scale, 1);
  EXPECT_TRUE(at::allclose(out[0], dense_attention(q[0], rows_b, scale), 1e-5, 1e-6));
  EXPECT_TRUE(at::equal(out[1], at::zeros_like(out[1])));
  EXPECT_TRUE(at::allclose(out[2], dense_attention(q[2], rows_a, scale), 1e-5, 1e-6));

  // Append one token to every row of both slots (entry order a, b), then attend over rows + that token.
  EXPECT_GE(store.prepare_append(a), 0);
  EXPECT_GE(store.prepare_append(b), 0);
  at::Tensor keys = at::randn({2, 2, 8}), values = at::randn({2, 2, 8});
  at::Tensor order = at::tensor(std::vector<int32_t>{a, b}, at::kInt);
  kernels::paged_append(store.layer(1), keys, values, order);
  store.advance(a);
  store.advance(b);
  EXPECT_EQ(store.row_tokens(a, 1, 1), 14);
  EXPECT_EQ(store.layer(1).lengths[a * 2 + 1].item<int32_t>(), 14);
  for (int64_t h = 0; h < 2; ++h) {
    rows_a[h] = {at::cat({rows_a[h].first, keys[0][h].unsqueeze(0)}), at::cat({rows_a[h].second, values[0][h].unsqueeze(0)})};
    rows_b[h] = {at::cat({rows_b[h].first, keys[1][h].unsqueeze(0)}), at::cat({rows_b[h].second, values[1][h].unsqueeze(0)})};
  }
  at::Tensor q2 = at::randn({2, 6, 8});
  at::Tensor out2 = kernels::paged_decode_attention(store.layer(1), q2, order, scale, 1);
  EXPECT_TRUE(at::allclose(out2[0], dense_attention(q2[0], rows_a, scale), 1e-5, 1e-6));
  EXPECT_TRUE(at::allclose(out2[1], dense_attention(q2[1], rows_b, scale), 1e-5, 1e-6));
}

TEST(PagedKVStore, CpuPoolGrowsAndKeepsWhatItHolds) {
  PagedKVOptions o = small_options(10000);
  o.max_row_tokens = 4096;
  PagedKVStore store(o);
  const int32_t a = store.acquire_slot();
  auto first = rows({7, 3}, 8);
  store.load(a, 0, first);
  const int32_t b = store.acquire_slot();
  store.load(b, 0, rows({2000, 1000}, 8));  // far past the first allocation
  at::Tensor q = at::randn({1, 4, 8});
  at::Tensor out = kernels::paged_decode_attention(store.layer(0), q, at::tensor(std::vector<int32_t>{a}, at::kInt), 1.0, 1);
  EXPECT_TRUE(at::allclose(out[0], dense_attention(q[0], first, 1.0), 1e-5, 1e-6));
}

}  // namespace

// Split choice of the CUDA decode kernel (host arithmetic, so it is checked here): whole waves, fewest splits.
TEST(PagedAttention, DecodeSplitsFillTheDeviceInWholeWaves) {
  // One sequence, 8 KV heads, 132 SMs x 4 resident blocks = 528: 64 splits x 8 rows = 512 blocks, one wave.
  EXPECT_EQ(kernels::choose_decode_splits(8, 528, 64), 64);
  // 3 resident blocks per SM (396): 64 splits would take 2 waves (512 blocks); 49 x 8 = 392 fills one.
  EXPECT_EQ(kernels::choose_decode_splits(8, 396, 64), 49);
  // Many rows: one split already fills the device in two nearly full waves; more splits only add block costs.
  EXPECT_EQ(kernels::choose_decode_splits(1024, 528, 64), 1);
  // 256 rows on 396 slots: 3 splits (768 blocks, 2 waves) beat 1 split (256 blocks, a wave 35 % empty).
  EXPECT_EQ(kernels::choose_decode_splits(256, 396, 64), 3);
  EXPECT_EQ(kernels::choose_decode_splits(1, 1, 64), 1);
  EXPECT_EQ(kernels::choose_decode_splits(0, 0, 64), 1);
  for (int64_t rows : {1, 7, 8, 64, 100, 256, 1000}) {
    const int64_t splits = kernels::choose_decode_splits(rows, 528, 64);
    EXPECT_GE(splits, 1);
    EXPECT_LE(splits, 64);
  }
}

// The device tables' queued writes (CUDA): a slot released (length 0) and loaded again (length n) before the next
// flush must end at n. A scatter with both writes keeps either on CUDA: that left reused slots at length 0 on the
// GPU, so later sequences decoded without their prompt (found by the GPU parity job, 2026-12-06).
TEST(PendingWrites, TheLastWriteToAnIndexWinsAndEachIndexIsAppliedOnce) {
  PendingWrites pending;
  EXPECT_TRUE(pending.empty());
  pending.set(5, 0);
  pending.set(9, 3);
  pending.set(5, 17);
  pending.set(2, 1);
  pending.set(9, 4);
  auto [index, value] = pending.take();
  EXPECT_EQ(index, (std::vector<int64_t>{5, 9, 2}));
  EXPECT_EQ(value, (std::vector<int32_t>{17, 4, 1}));
  EXPECT_TRUE(pending.empty());
  pending.set(5, 2);  // a new round starts empty
  auto [index2, value2] = pending.take();
  EXPECT_EQ(index2, (std::vector<int64_t>{5}));
  EXPECT_EQ(value2, (std::vector<int32_t>{2}));
}
