// Deterministic ResultRows for the results tests: every field derived from the row number, so a reader can
// check a row's content from its key alone.
#pragma once

#include "results/result_row.h"

#include <string>

namespace loom::results::testing {

inline ResultRow make_test_row(int i, const std::string& method = "full") {
  ResultRow r;
  r.sample_key = "RULER/niah_single_1/4096/" + std::to_string(i) + "/" + method;
  r.benchmark = "RULER";
  r.task = "niah_single_1";
  r.capability = "Retrieval";
  r.metric = "string_match_all";
  r.sample_id = "id-" + std::to_string(i);
  r.sample_index = i;
  r.target_length = 4096;
  r.context_length = 4000 + i;
  r.cost.input_tokens = 4000 + i;
  r.cost.output_tokens = 7 + i % 5;
  r.prediction = "The special magic number is " + std::to_string(1000 + i) + " — ünïcödé 数字 " +
                 std::string(static_cast<size_t>(i % 7) * 13, 'x');
  r.references_json = "[\"" + std::to_string(1000 + i) + "\"]";
  r.metadata_json = "{\"depth_percent\": " + std::to_string(i % 100) + "}";
  r.method = method;
  r.method_params_json = "{}";
  r.cost.prefill_seconds = 0.25 * i;
  r.cost.decode_seconds = 0.125 * i;
  r.cost.kv_bytes = 1000LL * i;
  r.cost.peak_memory_bytes = (1LL << 33) + i;
  r.rank = i % 4;
  r.group = i % 2;
  r.status = i % 11 == 3 ? "failed" : "ok";
  r.error = r.status == "failed" ? "out of memory" : "";
  r.finished_unix = 1.7e9 + i;
  r.cost.prefill_block_density = i % 3 == 0 ? 1.0 : 0.125 * (i % 8);
  r.cost.prefill_shared_by = 1 + i % 4;
  r.fingerprint = "model=m" + std::to_string(i % 2) + ";tokenizer=t;generation=g;prompt=p" + std::to_string(i) +
                  ";method=" + method + ";version=v";
  r.attempts = 1 + i % 3;
  if (i % 2 == 1) r.first_output = "Let me think step by step about row " + std::to_string(i) + " — 思考";
  return r;
}

// Every column of the cost record (cost_columns()) equal.
inline bool same_cost(const SampleCost& a, const SampleCost& b) {
  for (const CostColumn& column : cost_columns())
    if (cost_value(a, column.field) != cost_value(b, column.field)) return false;
  return true;
}

inline bool same_row(const ResultRow& a, const ResultRow& b) {
  return a.sample_key == b.sample_key && a.benchmark == b.benchmark && a.task == b.task &&
         a.capability == b.capability && a.metric == b.metric && a.sample_id == b.sample_id &&
         a.sample_index == b.sample_index && a.target_length == b.target_length &&
         a.context_length == b.context_length && a.prediction == b.prediction && a.first_output == b.first_output &&
         a.references_json == b.references_json && a.metadata_json == b.metadata_json && a.method == b.method &&
         a.method_params_json == b.method_params_json && same_cost(a.cost, b.cost) && a.rank == b.rank &&
         a.group == b.group && a.status == b.status && a.error == b.error && a.finished_unix == b.finished_unix &&
         a.fingerprint == b.fingerprint && a.attempts == b.attempts;
}

}  // namespace loom::results::testing
