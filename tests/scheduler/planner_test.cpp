// LPT planner and cost model.
#include "common/error.h"
#include "scheduler/cost_model.h"
#include "scheduler/planner.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <set>

using namespace loom::scheduler;

TEST(Planner, ThousandSyntheticCostsOverEightGroupsWithinFivePercentOfLowerBound) {
  // Long-context-like costs: lengths 1K..128K log-uniform, cost ~ a·n + b·n².
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> log_length(std::log(1024.0), std::log(131072.0));
  std::vector<double> costs;
  for (int i = 0; i < 1000; ++i) {
    const double n = std::exp(log_length(rng));
    costs.push_back(19.2e-6 * n + 0.45e-9 * n * n + 32 * (6.3e-3 + 0.08e-6 * n));
  }
  const Plan plan = plan_lpt(costs, 8);
  EXPECT_LE(plan.makespan, 1.05 * plan.lower_bound) << "makespan " << plan.makespan << " bound " << plan.lower_bound;
  EXPECT_GE(plan.makespan, plan.lower_bound);
  // Every item is planned exactly once.
  std::set<std::size_t> seen;
  double total = 0;
  for (const GroupPlan& group : plan.groups) {
    double load = 0;
    for (std::size_t index : group.items) {
      EXPECT_TRUE(seen.insert(index).second);
      load += costs[index];
    }
    EXPECT_NEAR(load, group.load, 1e-9 * load);
    total += load;
  }
  EXPECT_EQ(seen.size(), costs.size());
  EXPECT_NEAR(total, plan.total, 1e-9 * total);
}

TEST(Planner, UniformAndDegenerateCases) {
  EXPECT_DOUBLE_EQ(plan_lpt({}, 4).makespan, 0);
  const Plan one = plan_lpt({5, 3, 1}, 1);
  EXPECT_DOUBLE_EQ(one.makespan, 9);
  EXPECT_EQ(one.groups[0].items, (std::vector<std::size_t>{0, 1, 2}));
  const Plan giant = plan_lpt({100, 1, 1, 1}, 3);  // one item dominates: bound = largest item
  EXPECT_DOUBLE_EQ(giant.lower_bound, 100);
  EXPECT_DOUBLE_EQ(giant.makespan, 100);
  const Plan even = plan_lpt(std::vector<double>(64, 1.0), 8);
  EXPECT_DOUBLE_EQ(even.makespan, 8);
  EXPECT_EQ(longest_first({1, 3, 2, 3}), (std::vector<std::size_t>{1, 3, 2, 0}));
}

TEST(CostModel, ScalesWithModelShapeAndTensorParallel) {
  const std::filesystem::path yaml = std::filesystem::path(LOOM_SOURCE_DIR) / "configs" / "cost_model.yaml";
  ModelShape llama8b{6.979e9, 32, 4096, 8, 128};
  const CostModel h100 = CostModel::load(yaml, "h100", "cuda", llama8b, 1);
  // engines.md §2.1: prefill(128K) ≈ 19.2 µs·n + 0.45 ns·n² ≈ 10.2 s; decode step ≈ 6.3 ms + 0.080 µs·n.
  EXPECT_NEAR(h100.predict(131072, 0), 19.2e-6 * 131072 + 0.45e-9 * 131072.0 * 131072.0, 1e-6);
  EXPECT_NEAR(h100.predict(0, 10), 10 * 6.3e-3, 1e-9);
  const CostModel tp2 = CostModel::load(yaml, "h100", "cuda", llama8b, 2);
  EXPECT_LT(tp2.predict(32768, 32), h100.predict(32768, 32));
  ModelShape half = llama8b;
  half.linear_params /= 2;
  const CostModel small = CostModel::load(yaml, "h100", "cuda", half, 1);
  EXPECT_NEAR(small.coefficients().prefill_a, h100.coefficients().prefill_a / 2, 1e-12);
  EXPECT_EQ(CostModel::load(yaml, "auto", "cpu", llama8b, 1).profile(), "cpu");
  EXPECT_THROW(CostModel::load(yaml, "tpu", "cuda", llama8b, 1), loom::InputError);
}

TEST(CostModel, TakesModelShapeFromTheModelCard) {
  const auto dir = std::filesystem::path(LOOM_SOURCE_DIR) / "tests/fixtures/models/llama3_tiny";
  const ModelShape shape = model_shape(loom::model::read_model_card(dir));
  // 2 layers x (q,o: 2*64*4*16 + k,v: 2*64*2*16 + gated MLP: 3*64*128)
  EXPECT_DOUBLE_EQ(shape.linear_params, 2.0 * (8192 + 4096 + 24576));
  EXPECT_EQ(shape.layers, 2);
  EXPECT_EQ(shape.hidden, 64);
  EXPECT_EQ(shape.kv_heads, 2);
  EXPECT_EQ(shape.head_dim, 16);
}
