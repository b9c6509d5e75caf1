// ResultStore: rows in memory (key → row), made durable by the journal on every append, and checkpointed into
// the HDF5 file (whole-file rewrite, renamed into place) on the StoreOptions schedule and at close. After each
// checkpoint the journal is emptied; a crash between the rename and the truncation only leaves rows in both
// places, which the merge rule below de-duplicates by sample_key.
#include "results/result_store.h"

#include "common/error.h"
#include "results/journal.h"
#include "results/results_file.h"

#include <spdlog/spdlog.h>

#include <chrono>
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

// Loads a locked store's previous rows: the last checkpoint, then the journal on top.
JobAttributes load_locked(const std::filesystem::path& path, Journal& journal, RowTable& table) {
  JobAttributes attributes;
  remove_stale_temp(path);
  if (std::filesystem::exists(path)) {
    ResultsFileContents contents = read_results_file(path);
    attributes = std::move(contents.attributes);
    for (auto& row : contents.rows) table.add(std::move(row));
  }
  for (auto& row : journal.replay()) table.add(std::move(row));
  return attributes;
}

class JournaledResultStore final : public ResultStore {
 public:
  JournaledResultStore(std::filesystem::path path, JobAttributes attributes, StoreOptions options)
      : path_(std::move(path)), attributes_(std::move(attributes)), options_(options), journal_(journal_path_for(path_)) {
    load_locked(path_, journal_, table_);
    spdlog::info("results {}: {} rows already stored", path_.string(), table_.rows().size());
    checkpoint();
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
  }

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

  void checkpoint() {
    const auto start = Clock::now();
    write_results_file(path_, attributes_, table_.pointers());
    journal_.clear();
    last_checkpoint_end_ = Clock::now();
    last_checkpoint_seconds_ = std::chrono::duration<double>(last_checkpoint_end_ - start).count();
    rows_since_checkpoint_ = 0;
  }

  std::filesystem::path path_;
  JobAttributes attributes_;
  StoreOptions options_;
  Journal journal_;
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

void rewrite_results_file(const std::filesystem::path& path, const ExtraGroupWriter& extra) {
  Journal journal(journal_path_for(path));
  RowTable table;
  JobAttributes attributes = load_locked(path, journal, table);
  write_results_file(path, attributes, table.pointers(), extra);
  journal.remove();
}

}  // namespace loom::results
