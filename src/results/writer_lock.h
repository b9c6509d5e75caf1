// The writer lock of a results file: an exclusive flock on "<file>.lock", held by the one process that may write
// the file, its journal, or move them aside (a job in any resume mode, the metrics pass). The lock file names its
// holder ("host <h>, pid <p>, since <UTC time>"), so a refused writer can say who holds it. The lock file is
// removed on release; a process killed while holding it leaves the file but not the lock (the kernel drops it).
// File systems without flock (some Lustre mounts) get a warning and no protection.
#pragma once

#include "common/error.h"

#include <filesystem>
#include <string>

namespace loom::results {

// Thrown when the output cannot be used as asked: another live process holds it, or (scheduler) its rows were
// made by another run. The message names the holder or what changed and the way out.
class OutputConflict : public Error {
 public:
  using Error::Error;
};

std::filesystem::path lock_path_for(const std::filesystem::path& results_path);

class WriterLock {
 public:
  // Takes the lock or throws OutputConflict naming the holder.
  explicit WriterLock(const std::filesystem::path& results_path);
  ~WriterLock() { release(); }
  void release();  // removes the lock file and unlocks; idempotent
  WriterLock(const WriterLock&) = delete;
  WriterLock& operator=(const WriterLock&) = delete;

 private:
  std::filesystem::path path_;
  int fd_ = -1;
};

}  // namespace loom::results
