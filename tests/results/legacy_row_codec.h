// The journal's row encoding of versions 1-3 (before the cost record, 2026-12-06), frozen here so the tests can
// write rows the way older builds did: a version byte, then the fields in the old ResultRow's order, with the cost
// figures at fixed places. Version 2 lacks fingerprint and attempts; version 1 also lacks prefill_block_density.
#pragma once

#include "results/result_row.h"

#include <cstdint>
#include <cstring>
#include <string>

namespace loom::results::testing {

inline std::string encode_row_before_cost_record(const ResultRow& r, uint8_t version = 3) {
  std::string out(1, static_cast<char>(version));
  auto u32 = [&](uint32_t v) {
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
  };
  auto i64 = [&](int64_t v) {
    const auto u = static_cast<uint64_t>(v);
    for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((u >> (8 * i)) & 0xFF));
  };
  auto f64 = [&](double v) {
    int64_t bits;
    std::memcpy(&bits, &v, sizeof bits);
    i64(bits);
  };
  auto str = [&](const std::string& s) {
    u32(static_cast<uint32_t>(s.size()));
    out += s;
  };
  for (const std::string* s : {&r.sample_key, &r.benchmark, &r.task, &r.capability, &r.metric, &r.sample_id}) str(*s);
  for (int64_t v : {r.sample_index, r.target_length, r.context_length, r.cost.input_tokens, r.cost.output_tokens})
    i64(v);
  for (const std::string* s : {&r.prediction, &r.references_json, &r.metadata_json, &r.method, &r.method_params_json})
    str(*s);
  f64(r.cost.prefill_seconds);
  f64(r.cost.decode_seconds);
  i64(r.cost.kv_bytes);
  i64(r.cost.peak_memory_bytes);
  i64(r.rank);
  i64(r.group);
  str(r.status);
  str(r.error);
  f64(r.finished_unix);
  if (version >= 2) f64(r.cost.prefill_block_density);
  if (version >= 3) {
    str(r.fingerprint);
    i64(r.attempts);
  }
  return out;
}

}  // namespace loom::results::testing
