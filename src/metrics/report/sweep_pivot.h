// A sweep's methods as (method name, compression ratio) points, and the terminal pivot of their overall scores:
// one row per method name, one column per compression ratio, at most `width` characters a line (a long name is
// cut, and more ratios than fit are printed as further blocks). A method's name is its label before '@' (labels
// default to name@param-values, scheduler/job_parser.cpp); its ratio is params.compression_ratio (none: "-").
#pragma once

#include "metrics/report/aggregation.h"

#include <optional>
#include <ostream>
#include <string>

namespace loom::metrics::report {

struct SweepPoint {
  std::string name;              // "snapkv" for "snapkv@0.5"
  std::optional<double> ratio;   // params.compression_ratio
};

SweepPoint sweep_point(const std::string& method_label, const std::string& params_json);

// True when some method has a compression ratio and there are at least two methods (a sweep).
bool is_sweep(const Summary& summary);

// Prints the pivot when the summary is a sweep; returns whether it printed.
bool print_sweep_pivot(const Summary& summary, std::ostream& out, size_t width = 120);

}  // namespace loom::metrics::report
