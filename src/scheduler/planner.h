// Static plan of predicted costs over worker groups: LPT (longest processing time first: each item, in
// decreasing cost, goes to the least-loaded group). `validate` prints it; the dispatcher follows the same order
// dynamically (an idle group takes the most expensive remaining item), which is LPT with real instead of predicted
// durations. LPT is within 4/3 of the optimal makespan and, for many small items, close to the lower bound
// max(largest item, total / groups).
#pragma once

#include <cstddef>
#include <vector>

namespace loom::scheduler {

struct GroupPlan {
  std::vector<std::size_t> items;  // indices into the cost vector, in the order the group runs them
  double load = 0;                 // predicted seconds
};

struct Plan {
  std::vector<GroupPlan> groups;
  double makespan = 0;     // the most loaded group's load
  double lower_bound = 0;  // max(largest item, total / groups)
  double total = 0;
};

// Indices of `costs` sorted by decreasing cost (stable: equal costs keep their order).
std::vector<std::size_t> longest_first(const std::vector<double>& costs);
double makespan_lower_bound(const std::vector<double>& costs, int groups);
Plan plan_lpt(const std::vector<double>& costs, int groups);

}  // namespace loom::scheduler
