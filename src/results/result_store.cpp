// ResultStore: rows in memory (key → row), made durable by the journal on every append, and checkpointed into
// the HDF5 file (whole-file rewrite, renamed into place) on the StoreOptions schedule and at close. After each
// checkpoint the journal is emptied; a crash between the rename and the truncation only leaves rows in both
// places, which the merge rule below de-duplicates by sample_key.
#include "results/result_store.h"

#include "common/error.h"
#include "results/journal.h"
#include "results/results_file.h"
#include "results/writer_lock.h"

#include <spdlog/spdlog.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <stdio.h>
#include <unordered_map>

namespace loom::results {
namespace {

using Clock = std::chrono::steady_clock;

// Rows keyed by sample_key, in arrival order; the merge rule shared by the store, replay and read_rows.
class RowTable {
 public:
  // Returns false when the row was a duplicate of an ok row and was ignored.
  bool add(ResultRow row) {
    auto [it, inserted] = index_.try_emplace(row.sample_key, rows_.size());
    if (inserted) {
      rows_.push_back(std::move(row));
      return true;
    }
    ResultRow& stored = rows_[it->second];
    if (stored.status == "ok") return false;
    stored = std::move(row);
    return true;
  }
  bool contains_ok(const std::string& key) const {
    auto it = index_.find(key);
    return it != index_.end() && rows_[it->second].status == "ok";
  }
  const std::vector<ResultRow>& rows() const { return rows_; }
  std::vector<ResultRow> take() { return std::move(rows_); }
  std::vector<const ResultRow*> pointers() const {
    std::vector<const ResultRow*> out;
    out.reserve(rows_.size());
    for (const auto& r : rows_) out.push_back(&r);
    return out;
  }

 private:
  std::vector<ResultRow> rows_;
  std::unordered_map<std::string, size_t> index_;
};

void remove_stale_temp(const std::filesystem::path& path) {
  std::error_code ignored;
  std::filesystem::remove(path.string() + ".checkpoint.tmp", ignored);
}

struct Loaded {
  JobAttributes attributes;
  bool had_file = false;
  size_t journal_rows = 0;
};

// Loads a locked store's previous rows: the last checkpoint, then the journal on top.
Loaded load_locked(const std::filesystem::path& path, Journal& journal, RowTable& table) {
  Loaded loaded;
  remove_stale_temp(path);
  if (std::filesystem::exists(path)) {
    ResultsFileContents contents = read_results_file(path);
    loaded.attributes = std::move(contents.attributes);
    loaded.had_file = true;
    for (auto& row : contents.rows) table.add(std::move(row));
  }
  std::vector<ResultRow> replayed = journal.replay();
  loaded.journal_rows = replayed.size();
  for (auto& row : replayed) table.add(std::move(row));
  return loaded;
}

// rename(2) that never replaces an existing destination; false when it exists.
bool rename_no_replace(const std::filesystem::path& from, const std::filesystem::path& to) {
  if (renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) return true;
  if (errno == EEXIST) return false;
  throw Error(fmt::format("cannot move {} aside to {}: {}", from.string(), to.string(), std::strerror(errno)));
}

class JournaledResultStore final : public ResultStore {
 public:
  JournaledResultStore(std::filesystem::path path, const JobAttributes& attributes, StoreOptions options)
      : path_(std::move(path)), options_(options), lock_(path_), moved_aside_(fresh_start(path_, options)),
        journal_(journal_path_for(path_)) {
    Loaded loaded = load_locked(path_, journal_, table_);
    attributes_ = loaded.had_file ? std::move(loaded.attributes) : attributes;
    spdlog::info("results {}: {} rows already stored", path_.string(), table_.rows().size());
    if (!loaded.had_file || loaded.journal_rows > 0) checkpoint();
  }

  ~JournaledResultStore() override {
    try {
      close();
    } catch (const std::exception& e) {
      spdlog::error("results {}: final checkpoint failed ({}); the journal keeps every row", path_.string(), e.what());
    }
  }

  std::set<std::string> completed_keys() const override {
    std::set<std::string> keys;
    for (const auto& row : table_.rows()) keys.insert(row.sample_key);
    return keys;
  }

  std::set<std::string> failed_keys() const override {
    std::set<std::string> keys;
    for (const auto& row : table_.rows())
      if (row.status != "ok") keys.insert(row.sample_key);
    return keys;
  }

  void append(const ResultRow& row) override {
    LOOM_CHECK(!closed_, "append to the closed results store {}", path_.string());
    LOOM_CHECK(!row.sample_key.empty(), "a result row needs a sample_key");
    if (table_.contains_ok(row.sample_key)) {
      spdlog::warn("results {}: ignoring a second result for {}", path_.string(), row.sample_key);
      return;
    }
    journal_.append(row);
    table_.add(row);
    ++rows_since_checkpoint_;
    if (checkpoint_due()) checkpoint();
  }

  void close() override {
    if (closed_) return;
    closed_ = true;
    if (rows_since_checkpoint_ > 0) checkpoint();
    journal_.remove();
    lock_.release();  // the metrics pass takes it next
  }

  const std::vector<ResultRow>& rows() const override { return table_.rows(); }
  const JobAttributes& attributes() const override { return attributes_; }
  void set_attributes(const JobAttributes& attributes) override {
    LOOM_CHECK(!closed_, "set_attributes on the closed results store {}", path_.string());
    attributes_ = attributes;
    checkpoint();
  }
  const std::filesystem::path& moved_aside() const override { return moved_aside_; }
  size_t size() const override { return table_.rows().size(); }
  const std::filesystem::path& path() const override { return path_; }

 private:
  bool checkpoint_due() const {
    const double since = std::chrono::duration<double>(Clock::now() - last_checkpoint_end_).count();
    const bool wanted = rows_since_checkpoint_ >= options_.checkpoint_rows || since >= options_.checkpoint_seconds;
    const bool affordable = options_.max_checkpoint_overhead <= 0 ||
                            since * options_.max_checkpoint_overhead >= last_checkpoint_seconds_;
    return wanted && affordable;
  }

  static std::filesystem::path fresh_start(const std::filesystem::path& path, const StoreOptions& options) {
    return options.start_fresh ? move_results_aside(path) : std::filesystem::path();
  }

  void checkpoint() {
    const auto start = Clock::now();
    write_results_file(path_, attributes_, table_.pointers());
    journal_.clear();
    last_checkpoint_end_ = Clock::now();
    last_checkpoint_seconds_ = std::chrono::duration<double>(last_checkpoint_end_ - start).count();
    rows_since_checkpoint_ = 0;
  }

  std::filesystem::path path_;
  StoreOptions options_;
  WriterLock lock_;  // before anything below touches the files
  std::filesystem::path moved_aside_;
  Journal journal_;
  JobAttributes attributes_;
  RowTable table_;
  size_t rows_since_checkpoint_ = 0;
  double last_checkpoint_seconds_ = 0;
  Clock::time_point last_checkpoint_end_ = Clock::now();
  bool closed_ = false;
};

}  // namespace

std::unique_ptr<ResultStore> ResultStore::open(const std::filesystem::path& path, const JobAttributes& attributes) {
  return open(path, attributes, StoreOptions{});
}

std::unique_ptr<ResultStore> ResultStore::open(const std::filesystem::path& path, const JobAttributes& attributes,
                                               const StoreOptions& options) {
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path());
  return std::make_unique<JournaledResultStore>(path, attributes, options);
}

std::filesystem::path move_results_aside(const std::filesystem::path& path) {
  const std::filesystem::path journal = journal_path_for(path);
  if (!std::filesystem::exists(path) && !std::filesystem::exists(journal)) return {};
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char stamp[32] = {};
  std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &utc);
  const std::filesystem::path directory = path.parent_path();
  for (int n = 1;; ++n) {
    const std::string suffix = n == 1 ? std::string() : fmt::format("-{}", n);
    const std::filesystem::path moved =
        directory / fmt::format("{}.old-{}{}{}", path.stem().string(), stamp, suffix, path.extension().string());
    const std::filesystem::path moved_journal = journal_path_for(moved);
    if (std::filesystem::exists(moved) || std::filesystem::exists(moved_journal)) continue;
    if (std::filesystem::exists(path) && !rename_no_replace(path, moved)) continue;
    if (std::filesystem::exists(journal) && !rename_no_replace(journal, moved_journal)) continue;
    return moved;
  }
}

std::vector<ResultRow> read_rows(const std::filesystem::path& path) {
  // The journal first: a checkpoint that lands between the two reads then only duplicates rows.
  const std::filesystem::path journal = journal_path_for(path);
  JournalContents pending = read_journal(journal);
  const bool have_file = std::filesystem::exists(path);
  if (!have_file && !std::filesystem::exists(journal))
    throw Error(fmt::format("no results file at {} (nor its journal {})", path.string(), journal.string()));
  RowTable table;
  if (have_file)
    for (auto& row : read_results_file(path).rows) table.add(std::move(row));
  for (auto& row : pending.rows) table.add(std::move(row));
  return table.take();
}

JobAttributes read_attributes(const std::filesystem::path& path) {
  return read_results_file(path).attributes;
}

void rewrite_results_file(const std::filesystem::path& path, const ExtraGroupWriter& extra,
                          const std::function<void()>& after_write) {
  WriterLock lock(path);
  Journal journal(journal_path_for(path));
  RowTable table;
  const Loaded loaded = load_locked(path, journal, table);
  write_results_file(path, loaded.attributes, table.pointers(), extra);
  journal.remove();
  if (after_write) after_write();
}

}  // namespace loom::results
