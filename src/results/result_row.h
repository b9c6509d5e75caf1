// One row of the results table /samples: one (sample, method) pair. Written by rank 0 as results arrive,
// read by the metrics pass and by `loom_mpi report`. Layout on disk: docs/results.md.
#pragma once

#include "common/sample_cost.h"

#include <cstdint>
#include <string>

namespace loom::results {

struct ResultRow {
  std::string sample_key;      // unique per (benchmark, task, target length, sample index, method label)
  std::string benchmark;       // e.g. "RULER"
  std::string task;            // e.g. "niah_single_1"
  std::string capability;      // Faithfulness|General|Reasoning|Retrieval|Generation|Specialization
  std::string metric;          // scorer name(s), comma separated, e.g. "string_match_all"
  std::string sample_id;       // the dataset's own id, or the generator's index
  int64_t sample_index = 0;
  int64_t target_length = 0;   // requested context length for synthetic tasks, 0 for natural data
  int64_t context_length = 0;  // input tokens after truncation (= cost.input_tokens)
  std::string prediction;      // the generated text (of the chained generation when there is one)
  std::string first_output;    // a chained generation's first output (LongBench v2 cot: the chain of thought), else ""
  std::string references_json; // JSON array of reference strings
  std::string metadata_json;   // JSON object: scorer extras (all_classes, depth_percent, options, ...)
  std::string method;          // method label, e.g. "full", "snapkv@0.5"
  std::string method_params_json;
  SampleCost cost;             // the engine's record: tokens, seconds, bytes, ... (columns: common/sample_cost.h)
  int32_t rank = 0;            // world rank of the group leader that ran it
  int32_t group = 0;           // TP group index
  std::string status = "ok";   // "ok" | "failed"
  std::string error;           // reason when failed
  double finished_unix = 0;    // wall-clock time the result reached rank 0
  std::string fingerprint;     // run identity of what produced it: "model=..;tokenizer=..;..." (row_fingerprint.h)
  int32_t attempts = 1;        // runs that tried this (sample, method), this one included (failed rows are retried)
};

}  // namespace loom::results
