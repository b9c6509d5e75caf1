#include "results/writer_lock.h"

#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

namespace loom::results {
namespace {

std::string holder_description() {
  char host[256] = {};
  gethostname(host, sizeof(host) - 1);
  const std::time_t now = std::time(nullptr);
  char when[32] = {};
  std::tm utc{};
  gmtime_r(&now, &utc);
  std::strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", &utc);
  return fmt::format("host {}, pid {}, since {}", host, static_cast<long>(getpid()), when);
}

std::string read_holder(int fd) {
  char buffer[512] = {};
  const ssize_t n = pread(fd, buffer, sizeof(buffer) - 1, 0);
  std::string text = n > 0 ? std::string(buffer, static_cast<size_t>(n)) : std::string();
  while (!text.empty() && (text.back() == '\n' || text.back() == '\0')) text.pop_back();
  return text.empty() ? "a process that has not yet written its name" : text;
}

}  // namespace

std::filesystem::path lock_path_for(const std::filesystem::path& results_path) {
  return std::filesystem::path(results_path.string() + ".lock");
}

WriterLock::WriterLock(const std::filesystem::path& results_path) : path_(lock_path_for(results_path)) {
  // The holder unlinks the lock file on release: retry until the locked inode is the one the path names.
  for (;;) {
    fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) throw Error(fmt::format("cannot open the lock file {}: {}", path_.string(), std::strerror(errno)));
    if (flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      const int err = errno;
      if (err == ENOSYS || err == ENOLCK || err == EOPNOTSUPP) {
        spdlog::warn("results lock {}: the file system does not support locks ({}); make sure only one job writes "
                     "{}",
                     path_.string(), std::strerror(err), results_path.string());
        return;
      }
      const std::string holder = err == EWOULDBLOCK ? read_holder(fd_) : std::string();
      ::close(fd_);
      fd_ = -1;
      if (err == EWOULDBLOCK) {
        throw OutputConflict(fmt::format(
            "the results file {} is being written by another running job ({}); nothing was changed. Wait for that "
            "job to finish, or give this one another output path (output.path or --output)",
            results_path.string(), holder));
      }
      throw Error(fmt::format("cannot lock {}: {}", path_.string(), std::strerror(err)));
    }
    struct stat locked {}, named {};
    if (fstat(fd_, &locked) == 0 && ::stat(path_.c_str(), &named) == 0 && locked.st_ino == named.st_ino &&
        locked.st_dev == named.st_dev)
      break;
    ::close(fd_);
    fd_ = -1;
  }
  const std::string holder = holder_description() + "\n";
  if (ftruncate(fd_, 0) != 0 || pwrite(fd_, holder.data(), holder.size(), 0) < 0)
    spdlog::warn("results lock {}: cannot record the holder: {}", path_.string(), std::strerror(errno));
}

void WriterLock::release() {
  if (fd_ < 0) return;
  std::error_code ignored;
  std::filesystem::remove(path_, ignored);  // before unlocking: a waiter then sees a new inode and retries
  ::close(fd_);
  fd_ = -1;
}

}  // namespace loom::results
