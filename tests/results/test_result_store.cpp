// ResultStore unit tests: write/read round trip of every field, resume, duplicate handling, torn and corrupted
// journal tails, crash leftovers (journal only, stale checkpoint temp), the writer lock in every mode, moving an
// old file aside, attributes, retries of failed rows, and failed checkpoints.
#include "common/error.h"
#include "results/hdf5_table.h"
#include "results/journal.h"
#include "results/result_store.h"
#include "results/results_file.h"
#include "results/row_codec.h"
#include "results/writer_lock.h"
#include "legacy_row_codec.h"
#include "result_test_rows.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sys/wait.h>
#include <unistd.h>

namespace loom::results {
namespace {

using testing::make_test_row;
using testing::same_row;

class ResultStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("loom_results_test_" + std::to_string(getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    path_ = dir_ / "run.h5";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  JobAttributes attributes() const {
    JobAttributes a;
    a.job_yaml = "model:\n  path: models/tiny\n";
    a.model_config = "{\"hidden_size\": 64}";
    a.git_commit = "abc123";
    a.hostnames = {"node1", "node2"};
    a.devices = {"cpu", "cuda:0"};
    a.extra["started_unix"] = "1700000000";
    return a;
  }

  std::filesystem::path dir_;
  std::filesystem::path path_;
};

TEST(RowCodec, RoundTripsEveryField) {
  for (int i = 0; i < 30; ++i) {
    ResultRow row = make_test_row(i);
    auto decoded = decode_row(encode_row(row));
    ASSERT_TRUE(decoded);
    EXPECT_TRUE(same_row(row, *decoded));
  }
  std::string bytes = encode_row(make_test_row(3));
  EXPECT_FALSE(decode_row(std::string_view(bytes).substr(0, bytes.size() - 1)));
  EXPECT_FALSE(decode_row(bytes + "x"));
}

TEST(RowCodec, DecodesRowsOfJournalsBeforeTheCostRecord) {
  // Versions 1-3 (older builds' journals) decode with the defaults of what they lack: prefill_shared_by 1 (all),
  // no fingerprint and one attempt (1, 2), prefill_block_density 1 (1).
  ResultRow row = make_test_row(6);  // no first_output (versions before 5 have none)
  row.cost.prefill_shared_by = 1;
  auto v3 = decode_row(testing::encode_row_before_cost_record(row, 3));
  ASSERT_TRUE(v3);
  EXPECT_TRUE(same_row(row, *v3));
  auto v2 = decode_row(testing::encode_row_before_cost_record(row, 2));
  ASSERT_TRUE(v2);
  EXPECT_EQ(v2->fingerprint, "");
  EXPECT_EQ(v2->attempts, 1);
  EXPECT_EQ(v2->cost.prefill_block_density, row.cost.prefill_block_density);
  auto v1 = decode_row(testing::encode_row_before_cost_record(row, 1));
  ASSERT_TRUE(v1);
  row.cost.prefill_block_density = 1.0;
  row.fingerprint.clear();
  row.attempts = 1;
  EXPECT_TRUE(same_row(row, *v1));
  std::string unknown = testing::encode_row_before_cost_record(row, 1);
  unknown[0] = static_cast<char>(6);  // a version this build does not know
  EXPECT_FALSE(decode_row(unknown));
}

// Version 5 adds first_output (a chained generation's first output) after attempts; version 4 rows (journals of
// builds before 2026-12-07) decode with none.
TEST(RowCodec, FirstOutputRoundTripsAndVersion4RowsHaveNone) {
  ResultRow row = make_test_row(3);
  ASSERT_FALSE(row.first_output.empty());
  auto decoded = decode_row(encode_row(row));
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->first_output, row.first_output);
  row.first_output.clear();
  const std::string v5 = encode_row(row);
  // v5: ... attempts, first_output (u32 length 0 here), then the cost record (u32 count, u32 length, first name).
  const size_t name_at = v5.find(cost_columns().front().name);
  ASSERT_NE(name_at, std::string::npos);
  const size_t first_output_at = name_at - 12;
  std::string v4 = v5.substr(0, first_output_at) + v5.substr(first_output_at + 4);
  v4[0] = static_cast<char>(4);
  auto old = decode_row(v4);
  ASSERT_TRUE(old);
  EXPECT_TRUE(same_row(row, *old));
}

// The journal writes the cost record from cost_columns(), by name: every column is in the bytes and comes back.
TEST(RowCodec, EveryCostColumnRoundTripsByName) {
  ResultRow row = make_test_row(7);
  const auto& columns = cost_columns();
  for (size_t i = 0; i < columns.size(); ++i) set_cost_value(row.cost, columns[i].field, 11.0 + 3.0 * i);
  const std::string bytes = encode_row(row);
  EXPECT_EQ(static_cast<uint8_t>(bytes[0]), 5);
  for (const CostColumn& column : columns) EXPECT_NE(bytes.find(column.name), std::string::npos) << column.name;
  auto decoded = decode_row(bytes);
  ASSERT_TRUE(decoded);
  EXPECT_TRUE(same_row(row, *decoded));
  for (size_t i = 0; i < columns.size(); ++i)
    EXPECT_EQ(cost_value(decoded->cost, columns[i].field), 11.0 + 3.0 * i) << columns[i].name;
  // A column this build does not know (a newer build's) is skipped; one the row lacks keeps its default.
  std::string renamed = bytes;
  const size_t at = renamed.find("prefill_shared_by");
  ASSERT_NE(at, std::string::npos);
  renamed[at] = 'q';
  auto partial = decode_row(renamed);
  ASSERT_TRUE(partial);
  EXPECT_EQ(partial->cost.prefill_shared_by, 1);
  EXPECT_EQ(partial->cost.prefill_block_density, row.cost.prefill_block_density);
}

TEST(RowCodec, Crc32MatchesTheZlibCheckValue) {
  EXPECT_EQ(crc32("123456789", 9), 0xCBF43926u);
}

TEST_F(ResultStoreTest, WritesAndReadsEveryField) {
  {
    auto store = ResultStore::open(path_, attributes());
    for (int i = 0; i < 40; ++i) store->append(make_test_row(i));
    EXPECT_EQ(store->size(), 40u);
    store->close();
  }
  EXPECT_FALSE(std::filesystem::exists(journal_path_for(path_)));
  auto rows = read_rows(path_);
  ASSERT_EQ(rows.size(), 40u);
  for (int i = 0; i < 40; ++i) EXPECT_TRUE(same_row(rows[i], make_test_row(i))) << i;

  JobAttributes read = read_attributes(path_);
  EXPECT_EQ(read.job_yaml, attributes().job_yaml);
  EXPECT_EQ(read.model_config, attributes().model_config);
  EXPECT_EQ(read.git_commit, "abc123");
  EXPECT_EQ(read.hostnames, attributes().hostnames);
  EXPECT_EQ(read.devices, attributes().devices);
  EXPECT_EQ(read.extra.at("started_unix"), "1700000000");
  EXPECT_FALSE(read.extra.at("loom_mpi_version").empty());
}

// The HDF5 /samples table has one column per row of cost_columns(), with the table's name and type (int64 for
// integers, float64 for reals), holding each row's value.
TEST_F(ResultStoreTest, TheCostTableGivesTheHdf5Columns) {
  {
    auto store = ResultStore::open(path_, attributes());
    for (int i = 0; i < 5; ++i) store->append(make_test_row(i));
    store->close();
  }
  std::map<std::string, h5::ColumnKind> wanted;
  for (const CostColumn& column : cost_columns())
    wanted[column.name] = is_integer(column.field) ? h5::ColumnKind::int64 : h5::ColumnKind::float64;
  h5::Handle file(open_hdf5_read_only(path_), h5::Handle::Kind::file);
  const h5::ReadTable table = h5::read_table(file.get(), "samples", wanted);
  ASSERT_EQ(table.rows, 5u);
  for (const CostColumn& column : cost_columns()) {
    auto it = table.columns.find(column.name);
    ASSERT_NE(it, table.columns.end()) << column.name;
    for (int i = 0; i < 5; ++i) {
      const double want = cost_value(make_test_row(i).cost, column.field);
      if (is_integer(column.field)) {
        EXPECT_EQ(std::get<std::vector<int64_t>>(it->second)[i], static_cast<int64_t>(want)) << column.name;
      } else {
        EXPECT_EQ(std::get<std::vector<double>>(it->second)[i], want) << column.name;
      }
    }
  }
  EXPECT_EQ(std::get<std::vector<int64_t>>(table.columns.at("prefill_shared_by"))[2], 3);
}

// tests/fixtures/results/samples_before_cost_record.h5 was written by results_crash_writer (12 rows, checkpoints of
// 4) built from main at 1e48910, before the cost record: no prefill_shared_by column, the cost columns in their old
// places. It still reads, every field as written, with an unshared prefill.
TEST(ResultsFileLayout, ReadsAFileWrittenBeforeTheCostRecord) {
  const ResultsFileContents contents = read_results_file(LOOM_RESULTS_FIXTURES "/samples_before_cost_record.h5");
  ASSERT_EQ(contents.rows.size(), 12u);
  for (int i = 0; i < 12; ++i) {
    ResultRow want = make_test_row(i);
    want.cost.prefill_shared_by = 1;
    want.first_output.clear();  // no first_output column before 2026-12-07: read as empty
    EXPECT_TRUE(same_row(contents.rows[i], want)) << i;
  }
  EXPECT_EQ(contents.attributes.git_commit, "0123456789abcdef");
}

TEST_F(ResultStoreTest, EmptyStoreIsAValidFile) {
  ResultStore::open(path_, attributes())->close();
  EXPECT_TRUE(read_rows(path_).empty());
}

TEST_F(ResultStoreTest, ResumeSeesPreviousRowsAndAddsNewOnes) {
  {
    auto store = ResultStore::open(path_, attributes());
    for (int i = 0; i < 10; ++i) store->append(make_test_row(i));
  }
  auto store = ResultStore::open(path_, attributes());
  std::set<std::string> keys = store->completed_keys();
  EXPECT_EQ(keys.size(), 10u);
  EXPECT_TRUE(keys.count(make_test_row(7).sample_key));
  EXPECT_EQ(store->failed_keys(), std::set<std::string>{make_test_row(3).sample_key});
  for (int i = 0; i < 20; ++i)
    if (!keys.count(make_test_row(i).sample_key)) store->append(make_test_row(i));
  store->close();
  auto rows = read_rows(path_);
  ASSERT_EQ(rows.size(), 20u);
  for (int i = 0; i < 20; ++i) EXPECT_TRUE(same_row(rows[i], make_test_row(i)));
}

TEST_F(ResultStoreTest, DuplicatesOfOkRowsAreIgnoredAndFailedRowsCanBeRetried) {
  auto store = ResultStore::open(path_, attributes());
  store->append(make_test_row(1));
  ResultRow changed = make_test_row(1);
  changed.prediction = "second answer";
  store->append(changed);
  ResultRow failed = make_test_row(3);
  ASSERT_EQ(failed.status, "failed");
  store->append(failed);
  ResultRow retried = make_test_row(3);
  retried.status = "ok";
  retried.error.clear();
  store->append(retried);
  store->close();
  auto rows = read_rows(path_);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].prediction, make_test_row(1).prediction);
  EXPECT_EQ(rows[1].status, "ok");
}

TEST_F(ResultStoreTest, RowsAreReadableFromTheJournalBeforeAnyCheckpoint) {
  StoreOptions rarely;
  rarely.checkpoint_rows = 1000;
  rarely.checkpoint_seconds = 1e9;
  auto store = ResultStore::open(path_, attributes(), rarely);
  for (int i = 0; i < 5; ++i) store->append(make_test_row(i));
  EXPECT_EQ(read_results_file(path_).rows.size(), 0u);  // the checkpoint made at open
  EXPECT_EQ(read_rows(path_).size(), 5u);               // file + journal
}

TEST_F(ResultStoreTest, KilledWriterLeavesJournalThatOpenReplays) {
  StoreOptions rarely;
  rarely.checkpoint_rows = 4;
  rarely.checkpoint_seconds = 1e9;
  rarely.max_checkpoint_overhead = 0;
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto store = ResultStore::open(path_, attributes(), rarely);
    for (int i = 0; i < 10; ++i) store->append(make_test_row(i));
    _exit(0);  // no close, no destructors: as if killed
  }
  int status = 0;
  waitpid(child, &status, 0);
  EXPECT_EQ(read_results_file(path_).rows.size(), 8u);
  EXPECT_EQ(read_journal(journal_path_for(path_)).rows.size(), 2u);
  auto store = ResultStore::open(path_, attributes());
  EXPECT_EQ(store->completed_keys().size(), 10u);
}

TEST_F(ResultStoreTest, TornAndCorruptedJournalTailsAreCutOff) {
  {
    Journal journal(journal_path_for(path_));
    for (int i = 0; i < 3; ++i) journal.append(make_test_row(i));
  }
  const auto journal_file = journal_path_for(path_);
  const auto full_size = std::filesystem::file_size(journal_file);
  {
    std::ofstream out(journal_file, std::ios::binary | std::ios::app);
    std::string record = encode_row(make_test_row(3));
    out << "LJR1" << record.substr(0, 20);  // a torn fourth record
  }
  EXPECT_EQ(read_rows(path_).size(), 3u);
  {
    auto store = ResultStore::open(path_, attributes());
    EXPECT_EQ(store->size(), 3u);
  }
  // A flipped byte in the last record: that record is dropped, the earlier ones stay.
  {
    Journal journal(journal_path_for(path_));
    for (int i = 10; i < 12; ++i) journal.append(make_test_row(i));
  }
  {
    std::fstream io(journal_file, std::ios::binary | std::ios::in | std::ios::out);
    io.seekp(-5, std::ios::end);
    io.put('#');
  }
  auto rows = read_rows(path_);
  EXPECT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows.back().sample_key, make_test_row(10).sample_key);
  (void)full_size;
}

TEST_F(ResultStoreTest, JournalOnlyAndStaleTempFileAreRecovered) {
  {
    Journal journal(journal_path_for(path_));
    for (int i = 0; i < 4; ++i) journal.append(make_test_row(i));
  }
  std::ofstream(path_.string() + ".checkpoint.tmp") << "half-written HDF5";
  auto store = ResultStore::open(path_, attributes());
  EXPECT_EQ(store->size(), 4u);
  EXPECT_FALSE(std::filesystem::exists(path_.string() + ".checkpoint.tmp"));
}

TEST_F(ResultStoreTest, SecondWriterIsRefusedWhileTheFirstIsOpen) {
  auto first = ResultStore::open(path_, attributes());
  EXPECT_THROW(ResultStore::open(path_, attributes()), OutputConflict);
  first->close();
  first.reset();
  EXPECT_FALSE(std::filesystem::exists(lock_path_for(path_)));
  EXPECT_NO_THROW(ResultStore::open(path_, attributes())->close());
}

// Issue 14: `resume: false` on an output a running job holds moved the running job's file aside.
TEST_F(ResultStoreTest, StartFreshOnAHeldOutputIsRefusedAndMovesNothing) {
  auto first = ResultStore::open(path_, attributes());
  for (int i = 0; i < 5; ++i) first->append(make_test_row(i));
  StoreOptions fresh;
  fresh.start_fresh = true;
  try {
    ResultStore::open(path_, attributes(), fresh);
    ADD_FAILURE() << "a second writer with start_fresh was not refused";
  } catch (const OutputConflict& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("pid " + std::to_string(getpid())), std::string::npos) << message;
    EXPECT_NE(message.find("host "), std::string::npos) << message;
    EXPECT_NE(message.find(path_.string()), std::string::npos) << message;
  }
  EXPECT_TRUE(std::filesystem::exists(path_));
  EXPECT_TRUE(std::filesystem::exists(journal_path_for(path_)));
  for (const auto& entry : std::filesystem::directory_iterator(dir_))
    EXPECT_EQ(entry.path().string().find(".old-"), std::string::npos) << entry.path();
  first->append(make_test_row(5));
  first->close();
  EXPECT_EQ(read_rows(path_).size(), 6u);
}

TEST_F(ResultStoreTest, StartFreshKeepsEveryOldFileUnderItsOwnName) {
  std::vector<std::filesystem::path> moved;
  for (int run = 0; run < 3; ++run) {  // three runs in the same second must not overwrite each other
    StoreOptions fresh;
    fresh.start_fresh = true;
    auto store = ResultStore::open(path_, attributes(), fresh);
    if (run > 0) {
      ASSERT_FALSE(store->moved_aside().empty());
      moved.push_back(store->moved_aside());
    }
    EXPECT_EQ(store->size(), 0u);
    store->append(make_test_row(run));
    store->close();
  }
  ASSERT_EQ(moved.size(), 2u);
  EXPECT_NE(moved[0], moved[1]);
  for (size_t i = 0; i < moved.size(); ++i) {
    EXPECT_EQ(moved[i].extension(), ".h5");
    EXPECT_NE(moved[i].filename().string().find("run.old-"), std::string::npos) << moved[i];
    const auto rows = read_rows(moved[i]);
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0].sample_key, make_test_row(static_cast<int>(i)).sample_key);
  }
}

TEST_F(ResultStoreTest, StartFreshTakesAnUnfoldedJournalAlong) {
  {
    Journal journal(journal_path_for(path_));
    for (int i = 0; i < 3; ++i) journal.append(make_test_row(i));
  }
  StoreOptions fresh;
  fresh.start_fresh = true;
  auto store = ResultStore::open(path_, attributes(), fresh);
  EXPECT_EQ(store->size(), 0u);
  EXPECT_EQ(read_rows(store->moved_aside()).size(), 3u);
}

// Issue 14: reopening a file wrote the new run's attributes before anyone checked that its rows matched them.
TEST_F(ResultStoreTest, AnExistingFileKeepsItsAttributesUntilTheyAreSet) {
  ResultStore::open(path_, attributes())->close();
  JobAttributes other = attributes();
  other.model_config = "{\"hidden_size\": 4096}";
  {
    auto store = ResultStore::open(path_, other);
    EXPECT_EQ(store->attributes().model_config, attributes().model_config);
    EXPECT_EQ(read_attributes(path_).model_config, attributes().model_config);
    store->set_attributes(other);
    EXPECT_EQ(read_attributes(path_).model_config, other.model_config);
  }
}

TEST_F(ResultStoreTest, AFailedRowIsReplacedByItsRetry) {
  ResultRow failed = make_test_row(3);  // status failed
  ASSERT_EQ(failed.status, "failed");
  failed.attempts = 1;
  {
    auto store = ResultStore::open(path_, attributes());
    store->append(failed);
  }
  ResultRow retry = failed;
  retry.status = "ok";
  retry.error.clear();
  retry.attempts = 2;
  {
    auto store = ResultStore::open(path_, attributes());
    store->append(retry);
  }
  const auto rows = read_rows(path_);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].status, "ok");
  EXPECT_EQ(rows[0].attempts, 2);
}

// A checkpoint that cannot be written names the path and the OS reason, and keeps every row in the journal.
TEST_F(ResultStoreTest, AFailedCheckpointNamesThePathAndTheReasonAndLosesNothing) {
  auto store = ResultStore::open(path_, attributes());
  for (int i = 0; i < 4; ++i) store->append(make_test_row(i));
  std::filesystem::create_directories(path_.string() + ".checkpoint.tmp");  // open(2) then fails: EISDIR
  try {
    store->close();
    ADD_FAILURE() << "the checkpoint did not fail";
  } catch (const loom::Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find(path_.string() + ".checkpoint.tmp"), std::string::npos) << message;
    EXPECT_NE(message.find("Is a directory"), std::string::npos) << message;
  }
  store.reset();  // no second attempt, no crash
  std::filesystem::remove_all(path_.string() + ".checkpoint.tmp");
  EXPECT_EQ(read_rows(path_).size(), 4u);
}

TEST_F(ResultStoreTest, MissingFileIsAnError) {
  EXPECT_THROW(read_rows(dir_ / "absent.h5"), loom::Error);
  std::ofstream(dir_ / "garbage.h5") << "not hdf5";
  EXPECT_THROW(read_rows(dir_ / "garbage.h5"), loom::Error);
}

TEST_F(ResultStoreTest, RewriteAddsGroupsAndKeepsRows) {
  {
    auto store = ResultStore::open(path_, attributes());
    for (int i = 0; i < 6; ++i) store->append(make_test_row(i));
  }
  rewrite_results_file(path_, [](hid_t file) {
    hid_t group = H5Gcreate2(file, "metrics", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    ASSERT_GE(group, 0);
    H5Gclose(group);
  });
  EXPECT_EQ(read_rows(path_).size(), 6u);
  hid_t file = open_hdf5_read_only(path_);
  EXPECT_GT(H5Lexists(file, "metrics", H5P_DEFAULT), 0);
  H5Fclose(file);
  EXPECT_EQ(read_attributes(path_).git_commit, "abc123");
}

}  // namespace
}  // namespace loom::results
