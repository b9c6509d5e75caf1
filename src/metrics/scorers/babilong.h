// BABILong's compare_answers, exposed for re-scoring the official result CSVs (see scorers/babilong.cpp).
#pragma once

#include <string>
#include <vector>

namespace loom::metrics {

// TASK_LABELS[task] for qa1..qa20; InputError (key "task") otherwise.
const std::vector<std::string>& babilong_task_labels(const std::string& task);
bool babilong_compare_answers(const std::string& target, const std::string& output, const std::string& question,
                              const std::vector<std::string>& task_labels);

}  // namespace loom::metrics
