// Rank 0 tokenizes samples on several threads (scheduler/work_builder.h): one Tokenizer shared by N threads that
// encode the same and different texts at once must give exactly the ids of a serial encode with a cold cache, and
// the word cache must return what was inserted whichever thread inserted it, also once it is full.
#include <gtest/gtest.h>

#include "text/tokenizer.h"
#include "text/word_cache.h"
#include "text_test_support.h"

#include <algorithm>
#include <atomic>
#include <string>
#include <thread>
#include <vector>

namespace loom::text {
namespace {

using testing::essays_dir;
using testing::fixture_dir;
using testing::read_file;

// The first essays in name order, cut in pieces of a few kilobytes (many distinct words, many repeated ones).
std::vector<std::string> texts() {
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(essays_dir())) files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  std::vector<std::string> out;
  for (size_t f = 0; f < std::min<size_t>(files.size(), 6); ++f) {
    const std::string essay = read_file(files[f]);
    for (size_t at = 0; at < essay.size(); at += 3000) out.push_back(essay.substr(at, 3000));
  }
  out.push_back("");
  out.push_back(std::string(600, 'a') + " " + std::string(300, 'b'));  // words longer than the cache keeps
  return out;
}

void expect_same_ids_under_threads(const std::filesystem::path& dir) {
  const std::vector<std::string> inputs = texts();
  std::vector<std::vector<int32_t>> expected;
  {
    const auto serial = load_tokenizer(dir);
    for (const std::string& text : inputs) expected.push_back(serial->encode(text, true));
  }
  const auto shared = load_tokenizer(dir);  // a cold cache, filled by every thread at once
  constexpr int kThreads = 8;
  std::atomic<int> mismatches{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < kThreads; ++t) {
    pool.emplace_back([&, t] {
      for (int round = 0; round < 3; ++round) {
        for (size_t k = 0; k < inputs.size(); ++k) {
          const size_t i = (k * (t + 1) + round) % inputs.size();  // each thread in its own order
          if (shared->encode(inputs[i], true) != expected[i]) ++mismatches;
        }
      }
    });
  }
  for (std::thread& thread : pool) thread.join();
  EXPECT_EQ(mismatches.load(), 0) << dir;
}

TEST(TokenizerThreads, ByteLevelBpeGivesTheSerialIdsUnderEightThreads) {
  expect_same_ids_under_threads(std::filesystem::path(LOOM_SOURCE_DIR) / "tests/fixtures/models/llama3_tiny");
}

TEST(TokenizerThreads, MetaspaceBpeGivesTheSerialIdsUnderEightThreads) {
  expect_same_ids_under_threads(fixture_dir() / "tiny_metaspace");
}

TEST(TokenizerThreads, AFullWordCacheStillAnswersWhatItHolds) {
  WordCache cache(7);  // 128 slots in all: 2 per shard, so most inserts find their shard full
  constexpr int kThreads = 8;
  std::vector<std::thread> pool;
  std::atomic<int> wrong{0};
  for (int t = 0; t < kThreads; ++t) {
    pool.emplace_back([&, t] {
      for (int i = 0; i < 2000; ++i) {
        const int w = (i * 7 + t) % 500;
        const std::string word = "w" + std::to_string(w);
        const int32_t ids[2] = {w, -w};
        std::vector<int32_t> found;
        if (cache.lookup(word, found)) {
          if (found != std::vector<int32_t>{w, -w}) ++wrong;
        } else {
          cache.insert(word, ids, 2);
        }
      }
    });
  }
  for (std::thread& thread : pool) thread.join();
  EXPECT_EQ(wrong.load(), 0);
  int held = 0;
  for (int w = 0; w < 500; ++w) {
    std::vector<int32_t> found;
    if (cache.lookup("w" + std::to_string(w), found)) {
      ++held;
      EXPECT_EQ(found, (std::vector<int32_t>{w, -w}));
    }
  }
  EXPECT_GT(held, 0);
  EXPECT_LE(held, 64);  // at most half the slots
}

}  // namespace
}  // namespace loom::text
