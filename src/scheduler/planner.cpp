#include "scheduler/planner.h"

#include "common/error.h"

#include <algorithm>
#include <functional>
#include <numeric>
#include <queue>
#include <utility>

namespace loom::scheduler {

std::vector<std::size_t> longest_first(const std::vector<double>& costs) {
  std::vector<std::size_t> order(costs.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return costs[a] > costs[b]; });
  return order;
}

double makespan_lower_bound(const std::vector<double>& costs, int groups) {
  LOOM_CHECK(groups > 0, "need at least one group, got {}", groups);
  if (costs.empty()) return 0;
  const double total = std::accumulate(costs.begin(), costs.end(), 0.0);
  return std::max(*std::max_element(costs.begin(), costs.end()), total / groups);
}

Plan plan_lpt(const std::vector<double>& costs, int groups) {
  LOOM_CHECK(groups > 0, "need at least one group, got {}", groups);
  Plan plan;
  plan.groups.resize(static_cast<std::size_t>(groups));
  using Slot = std::pair<double, std::size_t>;  // (load, group)
  std::priority_queue<Slot, std::vector<Slot>, std::greater<Slot>> least_loaded;
  for (std::size_t g = 0; g < plan.groups.size(); ++g) least_loaded.emplace(0.0, g);
  for (std::size_t index : longest_first(costs)) {
    auto [load, group] = least_loaded.top();
    least_loaded.pop();
    plan.groups[group].items.push_back(index);
    plan.groups[group].load = load + costs[index];
    least_loaded.emplace(plan.groups[group].load, group);
  }
  for (const GroupPlan& group : plan.groups) plan.makespan = std::max(plan.makespan, group.load);
  plan.total = std::accumulate(costs.begin(), costs.end(), 0.0);
  plan.lower_bound = makespan_lower_bound(costs, groups);
  return plan;
}

}  // namespace loom::scheduler
