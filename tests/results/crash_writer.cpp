// Writer process for the crash test and the h5py/h5dump checks:
//   results_crash_writer PATH TOTAL CHECKPOINT_ROWS
// Opens the store at PATH, appends make_test_row(i) for every i < TOTAL whose key is not stored yet, and after
// each append returns prints "ack <i>" on stdout (an acknowledged row must survive any later crash). Closes the
// store and prints "done" at the end. The crash test SIGKILLs it at random instants.
#include "results/result_store.h"
#include "result_test_rows.h"

#include <spdlog/spdlog.h>

#include <cstdio>
#include <string>
#include <unistd.h>

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s PATH TOTAL CHECKPOINT_ROWS\n", argv[0]);
    return 2;
  }
  spdlog::set_level(spdlog::level::warn);
  const std::filesystem::path path = argv[1];
  const int total = std::stoi(argv[2]);
  loom::results::StoreOptions options;
  options.checkpoint_rows = std::stoul(argv[3]);
  options.checkpoint_seconds = 1e9;
  options.max_checkpoint_overhead = 0;

  loom::results::JobAttributes attributes;
  attributes.job_yaml = "model:\n  path: models/tiny\nbenchmarks:\n  - name: RULER\n";
  attributes.model_config = "{\"model_type\": \"llama\"}";
  attributes.git_commit = "0123456789abcdef";
  attributes.hostnames = {"localhost"};
  attributes.devices = {"cpu"};
  auto store = loom::results::ResultStore::open(path, attributes, options);
  const std::set<std::string> done = store->completed_keys();
  for (int i = 0; i < total; ++i) {
    const loom::results::ResultRow row = loom::results::testing::make_test_row(i);
    if (done.count(row.sample_key)) continue;
    store->append(row);
    const std::string ack = "ack " + std::to_string(i) + "\n";
    if (::write(STDOUT_FILENO, ack.data(), ack.size()) != static_cast<ssize_t>(ack.size())) return 3;
  }
  store->close();
  const char finished[] = "done\n";
  return ::write(STDOUT_FILENO, finished, sizeof finished - 1) == sizeof finished - 1 ? 0 : 3;
}
