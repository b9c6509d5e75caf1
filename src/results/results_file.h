// The HDF5 results file as a whole: root attributes (JobAttributes + format version), the table /samples, and
// optional extra groups (the metrics pass adds /metrics; /judge holds the judge's verdicts and survives rewrites).
// Files are only ever written whole, to "<file>.checkpoint.tmp", fsync'd and renamed over the destination (then the
// directory is fsync'd), so the file at the destination path is always a complete, readable HDF5 file: a crash
// leaves the previous one.
#pragma once

#include "results/result_store.h"

#include <hdf5.h>

#include <filesystem>
#include <functional>
#include <vector>

namespace loom::results {

inline constexpr int kResultsFormatVersion = 1;

struct ResultsFileContents {
  JobAttributes attributes;
  std::vector<ResultRow> rows;
};

// Writes extra groups into the file being checkpointed (the metrics pass passes one that writes /metrics).
using ExtraGroupWriter = std::function<void(hid_t file)>;

void write_results_file(const std::filesystem::path& path, const JobAttributes& attributes,
                        const std::vector<const ResultRow*>& rows, const ExtraGroupWriter& extra = {});

// Throws loom::Error naming the file when it is not a readable results file.
ResultsFileContents read_results_file(const std::filesystem::path& path);

// Opens an HDF5 file read-only (error printing silenced; throws loom::Error naming the file).
hid_t open_hdf5_read_only(const std::filesystem::path& path);

}  // namespace loom::results

namespace loom::results {

// For the metrics pass: takes the writer lock (throws loom::Error when a live job is writing the store), folds a
// leftover journal into the file, and rewrites it atomically with the previous attributes, every row, and the
// groups `extra` writes. Earlier extra groups (an old /metrics) are dropped, except /judge (the verdicts,
// results/verdicts.h), which is kept unless `extra` writes it. `after_write` runs once the new file is in place,
// still under the lock (the metrics pass removes the verdict journal it folded in).
void rewrite_results_file(const std::filesystem::path& path, const ExtraGroupWriter& extra,
                          const std::function<void()>& after_write = {});

}  // namespace loom::results
