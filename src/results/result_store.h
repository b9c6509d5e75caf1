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

// When the HDF5 file is re-checkpointed while rows are appended (the journal makes every row durable at once;
// checkpoints only bound how far the HDF5 file lags behind). A checkpoint happens when `checkpoint_rows` rows or
// `checkpoint_seconds` seconds have accumulated, but never so often that rewriting the file takes more than
// `max_checkpoint_overhead` of the wall time (a checkpoint rewrites the whole file).
// start_fresh (a job's `resume: false`): under the writer lock, an existing file and journal are first moved aside
// (move_results_aside), never overwritten.
struct StoreOptions {
  bool start_fresh = false;
  size_t checkpoint_rows = 64;
  double checkpoint_seconds = 30;
  double max_checkpoint_overhead = 0.05;
};

class ResultStore {
 public:
  // Takes the writer lock (throws OutputConflict naming the holder when another live process has it), then opens
  // (creating if absent) the store at `path` and replays the journal of a previous, killed run. A new file gets
  // `attributes` at once; an existing one keeps its own until set_attributes() (the caller first checks that the
  // stored rows belong to this run). A replayed journal is folded into the file at once.
  static std::unique_ptr<ResultStore> open(const std::filesystem::path& path, const JobAttributes& attributes);
  static std::unique_ptr<ResultStore> open(const std::filesystem::path& path, const JobAttributes& attributes,
                                           const StoreOptions& options);
  virtual ~ResultStore() = default;

  virtual std::set<std::string> completed_keys() const = 0;  // sample_key of every stored row (ok or failed)
  virtual std::set<std::string> failed_keys() const = 0;     // the subset whose status is "failed"
  // Durable when it returns. A row whose key is stored already replaces it only when the stored row failed
  // (a retry); a duplicate of an ok row is ignored with a warning, so every key is stored exactly once.
  virtual void append(const ResultRow& row) = 0;
  virtual const std::vector<ResultRow>& rows() const = 0;    // every stored row, in arrival order
  virtual const JobAttributes& attributes() const = 0;       // those the file holds now
  virtual void set_attributes(const JobAttributes& attributes) = 0;  // replaces them; checkpoints at once
  virtual const std::filesystem::path& moved_aside() const = 0;      // where start_fresh moved the old file, or ""
  virtual size_t size() const = 0;
  virtual void close() = 0;  // final checkpoint of the HDF5 file, then the writer lock is released
  virtual const std::filesystem::path& path() const = 0;
};

// Moves <path> and <path>.journal to <dir>/<stem>.old-<UTC yyyymmdd-HHMMSS>[-n]<ext>[.journal], never over an
// existing file; returns the new name ("" when there was nothing to move). The caller holds the writer lock.
std::filesystem::path move_results_aside(const std::filesystem::path& path);

// Reads every row of a results file (journal included), for the metrics pass and `report`. Needs no lock: safe
// while a job is writing. Throws loom::Error when neither the file nor its journal exists or is readable.
std::vector<ResultRow> read_rows(const std::filesystem::path& path);
JobAttributes read_attributes(const std::filesystem::path& path);

}  // namespace loom::results
