// rag_rows FILE: one JSON line per row of a results file (journal included), with the fields the RAG end-to-end
// test checks: sample_key, sample_id, status, error, metadata (parsed), input_tokens.
#include "results/result_store.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <iostream>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: rag_rows FILE\n");
    return 2;
  }
  for (const auto& row : loom::results::read_rows(argv[1])) {
    const nlohmann::json line = {{"sample_key", row.sample_key},
                                 {"sample_id", row.sample_id},
                                 {"status", row.status},
                                 {"error", row.error},
                                 {"metadata", nlohmann::json::parse(row.metadata_json)},
                                 {"input_tokens", row.cost.input_tokens}};
    std::cout << line.dump() << '\n';
  }
  return 0;
}
