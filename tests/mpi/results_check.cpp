// results_check FILE [EXPECTED_ROWS]: reads a results file through the results API (journal included) and prints
// "rows=<n> unique=<u> duplicates=<d> failed=<f>"; exits 1 when a sample_key repeats or the row count differs from
// EXPECTED_ROWS. Used by the kill-and-resume integration test (tests/mpi/kill_resume_test.py).
#include "results/result_store.h"

#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: results_check FILE [EXPECTED_ROWS]\n");
    return 2;
  }
  const auto rows = loom::results::read_rows(argv[1]);
  std::map<std::string, int> counts;
  int failed = 0;
  for (const auto& row : rows) {
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
  if (argc > 2 && static_cast<long>(rows.size()) != std::atol(argv[2])) {
    std::fprintf(stderr, "expected %s rows\n", argv[2]);
    return 1;
  }
  return 0;
}
