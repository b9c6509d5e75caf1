// results_check FILE [EXPECTED_ROWS] [--rows]: reads a results file through the results API (journal included) and
// prints "rows=<n> unique=<u> duplicates=<d> failed=<f>"; exits 1 when a sample_key repeats or the row count differs
// from EXPECTED_ROWS. --rows first prints one JSON object per row (sample_key, status, error, prediction,
// first_output, finished_unix). Used by the kill-and-resume integration test (tests/mpi/kill_resume_test.py) and the
// chain-of-thought test (tests/mpi/cot_test.py).
#include "results/result_store.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  bool print_rows = false;
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--rows") print_rows = true;
    else args.emplace_back(argv[i]);
  }
  if (args.empty()) {
    std::fprintf(stderr, "usage: results_check FILE [EXPECTED_ROWS] [--rows]\n");
    return 2;
  }
  const auto rows = loom::results::read_rows(args[0]);
  std::map<std::string, int> counts;
  int failed = 0;
  for (const auto& row : rows) {
    if (print_rows) {
      const nlohmann::json line = {{"sample_key", row.sample_key}, {"status", row.status},
                                   {"error", row.error},           {"prediction", row.prediction},
                                   {"first_output", row.first_output}, {"finished_unix", row.finished_unix}};
      std::printf("%s\n", line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    }
    ++counts[row.sample_key];
    if (row.status != "ok") ++failed;
  }
  int duplicates = 0;
  for (const auto& [key, count] : counts) {
    if (count > 1) {
      ++duplicates;
      std::fprintf(stderr, "duplicate sample_key %s (%d rows)\n", key.c_str(), count);
    }
  }
  std::printf("rows=%zu unique=%zu duplicates=%d failed=%d\n", rows.size(), counts.size(), duplicates, failed);
  if (duplicates > 0) return 1;
  if (args.size() > 1 && static_cast<long>(rows.size()) != std::atol(args[1].c_str())) {
    std::fprintf(stderr, "expected %s rows\n", args[1].c_str());
    return 1;
  }
  return 0;
}
