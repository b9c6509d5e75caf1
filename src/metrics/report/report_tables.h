// Plain-text tables of a Summary for the terminal (scores are percentages with two decimals):
//   task      — per method: task × length column (synthetic target lengths or length buckets), the task average,
//               and a benchmark average row per benchmark
//   length    — per method: benchmark × length bucket, with the method's bucket average
//   capability — per method: capability score and its benchmarks, then the overall score
//   method    — benchmarks, capabilities and overall side by side, one column per method
// and the failures (counts per method/benchmark/task and the first reasons).
#pragma once

#include "metrics/report/aggregation.h"

#include <ostream>
#include <string>

namespace loom::metrics::report {

enum class TableView { all, task, length, capability, method };

// Throws loom::InputError (key "--by") for a name other than task|length|capability|method|all.
TableView parse_table_view(const std::string& name);

void print_tables(const Summary& summary, TableView view, std::ostream& out);
void print_failures(const Summary& summary, std::ostream& out, size_t max_listed = 20);
// The judged metrics (docs/judge.md) per method and task: score over the rows with a verdict, rows not computed and
// the most frequent reason. Prints nothing when no row has a judged metric.
void print_judged(const Summary& summary, std::ostream& out);

}  // namespace loom::metrics::report
