#include "results/journal.h"

#include "common/error.h"
#include "results/row_codec.h"

#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <unistd.h>

namespace loom::results {
namespace {

constexpr uint32_t kRecordMagic = 0x31524A4Cu;  // "LJR1" little-endian
constexpr size_t kHeaderBytes = 12;
constexpr uint32_t kMaxPayload = 1u << 30;

uint32_t load_u32(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(static_cast<uint8_t>(p[i])) << (8 * i);
  return v;
}

void store_u32(char* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<char>((v >> (8 * i)) & 0xFF);
}

JournalContents parse(const std::string& bytes) {
  JournalContents out;
  size_t pos = 0;
  while (bytes.size() - pos >= kHeaderBytes) {
    const char* header = bytes.data() + pos;
    const uint32_t magic = load_u32(header);
    const uint32_t length = load_u32(header + 4);
    const uint32_t checksum = load_u32(header + 8);
    if (magic != kRecordMagic || length > kMaxPayload || bytes.size() - pos - kHeaderBytes < length) break;
    const char* payload = header + kHeaderBytes;
    if (crc32(payload, length, crc32(header + 4, 4)) != checksum) break;
    auto row = decode_row(std::string_view(payload, length));
    if (!row) break;
    out.rows.push_back(std::move(*row));
    pos += kHeaderBytes + length;
  }
  out.valid_bytes = pos;
  out.dropped_bytes = bytes.size() - pos;
  return out;
}

std::string read_fd(int fd, const std::filesystem::path& path) {
  std::string bytes;
  char buffer[1 << 16];
  if (lseek(fd, 0, SEEK_SET) < 0) throw Error(fmt::format("cannot seek in {}: {}", path.string(), std::strerror(errno)));
  for (;;) {
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw Error(fmt::format("cannot read {}: {}", path.string(), std::strerror(errno)));
    if (n == 0) break;
    bytes.append(buffer, static_cast<size_t>(n));
  }
  return bytes;
}

void write_all(int fd, const char* data, size_t size, const std::filesystem::path& path) {
  while (size > 0) {
    ssize_t n = ::write(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw Error(fmt::format("cannot append to {}: {}", path.string(), std::strerror(errno)));
    data += n;
    size -= static_cast<size_t>(n);
  }
}

}  // namespace

std::filesystem::path journal_path_for(const std::filesystem::path& results_path) {
  return std::filesystem::path(results_path.string() + ".journal");
}

JournalContents read_journal(const std::filesystem::path& journal_path) {
  std::ifstream in(journal_path, std::ios::binary);
  if (!in) return {};
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return parse(bytes);
}

Journal::Journal(std::filesystem::path journal_path) : path_(std::move(journal_path)) {
  fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd_ < 0) throw Error(fmt::format("cannot open the results journal {}: {}", path_.string(), std::strerror(errno)));
}

Journal::~Journal() {
  if (fd_ >= 0) ::close(fd_);
}

std::vector<ResultRow> Journal::replay() {
  JournalContents contents = parse(read_fd(fd_, path_));
  if (contents.dropped_bytes > 0) {
    spdlog::warn("results journal {}: dropping a torn or corrupted tail of {} bytes after {} complete rows",
                 path_.string(), contents.dropped_bytes, contents.rows.size());
    if (ftruncate(fd_, static_cast<off_t>(contents.valid_bytes)) != 0 || fdatasync(fd_) != 0)
      throw Error(fmt::format("cannot truncate {}: {}", path_.string(), std::strerror(errno)));
  }
  return std::move(contents.rows);
}

void Journal::append(const ResultRow& row) {
  const std::string payload = encode_row(row);
  LOOM_CHECK(payload.size() <= kMaxPayload, "result row {} is {} bytes, above the journal limit", row.sample_key,
             payload.size());
  std::string record(kHeaderBytes, '\0');
  store_u32(record.data(), kRecordMagic);
  store_u32(record.data() + 4, static_cast<uint32_t>(payload.size()));
  store_u32(record.data() + 8, crc32(payload.data(), payload.size(), crc32(record.data() + 4, 4)));
  record += payload;
  write_all(fd_, record.data(), record.size(), path_);
  if (fdatasync(fd_) != 0) throw Error(fmt::format("cannot sync {}: {}", path_.string(), std::strerror(errno)));
}

void Journal::clear() {
  if (ftruncate(fd_, 0) != 0 || fdatasync(fd_) != 0)
    throw Error(fmt::format("cannot truncate {}: {}", path_.string(), std::strerror(errno)));
}

void Journal::remove() {
  if (fd_ < 0) return;
  std::error_code ignored;
  std::filesystem::remove(path_, ignored);
  ::close(fd_);
  fd_ = -1;
}

}  // namespace loom::results
