// Flat exports of a Summary (`loom_mpi report --format csv|md|json`): one record per method × benchmark × task ×
// length column (level "task_length"), then the aggregates — per task over all lengths ("task"), per benchmark
// ("benchmark"), per capability ("capability") and per method ("overall") — every score a percentage (0–100).
// CSV follows RFC 4180; Markdown is one pipe table; JSON is an array of objects with the same keys.
#pragma once

#include "metrics/report/aggregation.h"

#include <ostream>
#include <string>
#include <vector>

namespace loom::metrics::report {

struct ExportRecord {
  std::string level;  // task_length | task | benchmark | capability | overall
  std::string method, benchmark, task, capability, length;  // empty where the level has none
  double score = 0;
  int64_t samples = 0;
  int64_t failed = 0;
};

std::vector<ExportRecord> export_records(const Summary& summary);

enum class ExportFormat { csv, md, json };

// Throws loom::InputError (key "--format") for a name other than csv|md|json.
ExportFormat parse_export_format(const std::string& name);

void write_export(const Summary& summary, ExportFormat format, std::ostream& out);

}  // namespace loom::metrics::report
