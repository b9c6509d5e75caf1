// The journal beside a results file (<file>.journal): the durable, append-only log of rows not yet folded into
// an HDF5 checkpoint. Record = u32 magic "LJR1", u32 payload length, u32 CRC-32 of (length bytes + payload),
// payload (row_codec). Each append is one write(2) followed by fdatasync, so a row is durable when append returns;
// a crash can only leave a torn last record, which replay detects (short or CRC mismatch) and cuts off.
// Only the holder of the results file's WriterLock (writer_lock.h) may open it.
#pragma once

#include "results/result_row.h"

#include <filesystem>
#include <vector>

namespace loom::results {

std::filesystem::path journal_path_for(const std::filesystem::path& results_path);

struct JournalContents {
  std::vector<ResultRow> rows;
  uint64_t valid_bytes = 0;    // length of the prefix made of complete, checksummed records
  uint64_t dropped_bytes = 0;  // torn or corrupted bytes after it
};

// Reads the journal without locking or modifying it; a missing file is an empty journal.
JournalContents read_journal(const std::filesystem::path& journal_path);

class Journal {
 public:
  // Opens (creating) the journal; the caller holds the results file's WriterLock.
  explicit Journal(std::filesystem::path journal_path);
  ~Journal();
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;

  // The complete records, in order; a torn or corrupted tail is truncated away (and logged).
  std::vector<ResultRow> replay();
  void append(const ResultRow& row);  // durable when it returns
  void clear();                       // after a checkpoint holds every row: truncate to empty, durably
  void remove();                      // unlink and release (store closed cleanly)
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  int fd_ = -1;
};

}  // namespace loom::results
