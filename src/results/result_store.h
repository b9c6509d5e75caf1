// The results file of a job: one HDF5 file with the table /samples (one ResultRow per (sample, method)), job
// attributes, and the `metrics` group written by the metrics pass. Rows are appended and flushed as they arrive.
// Crash safety: every row is first appended to a journal beside the file (<file>.journal, append-only,
// length-prefixed and checksummed records, fsync'd); the HDF5 file is rewritten from checkpoints renamed into
// place. Opening an existing store replays the journal, so a job killed at any instant (even mid-write of the HDF5
// file) resumes with every completed row, each exactly once. Layout: docs/results.md.
#pragma once

#include "results/result_row.h"

#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace loom::results {

struct JobAttributes {
  std::string job_yaml;       // the job file's text
  std::string model_config;   // config.json text
  std::string git_commit;
  std::vector<std::string> hostnames;
  std::vector<std::string> devices;
  std::map<std::string, std::string> extra;  // any other attribute (loom_mpi version, start time, ...)
};

class ResultStore {
 public:
  // Opens (creating if absent) the store at `path`; replays the journal of a previous, killed run.
  static std::unique_ptr<ResultStore> open(const std::filesystem::path& path, const JobAttributes& attributes);
  virtual ~ResultStore() = default;

  virtual std::set<std::string> completed_keys() const = 0;  // sample_key of every stored row
  virtual void append(const ResultRow& row) = 0;              // durable when it returns
  virtual void close() = 0;                                    // final checkpoint of the HDF5 file
  virtual const std::filesystem::path& path() const = 0;
};

// Reads every row of a results file (journal included), for the metrics pass and `report`.
std::vector<ResultRow> read_rows(const std::filesystem::path& path);

}  // namespace loom::results
