// A bounded, thread-safe map from a word (bytes) to its token ids, used to skip BPE for words already seen.
// Open addressing over flat arenas of keys and ids (no allocation per entry); lookups take a string_view.
// Sharded for concurrent use (rank 0 tokenizes samples on several threads, common/parallel_for.h): the word's hash
// picks one of kShards independent tables, each under its own mutex, so threads rarely wait on each other. When a
// shard is full it stops inserting (as the `tokenizers` cache does), so memory stays bounded. The cache never
// changes what encode returns, only how fast.
#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace loom::text {

class WordCache {
 public:
  // The tables start small (fewer cache misses for small vocabularies of words) and double up to
  // 2^max_capacity_log2 slots in all, holding at most half that many words.
  explicit WordCache(int max_capacity_log2 = 20);

  // Appends the cached ids of `word` to `ids` and returns true, or returns false when the word is not cached.
  bool lookup(std::string_view word, std::vector<int32_t>& ids) const;
  void insert(std::string_view word, const int32_t* ids, size_t count);

  static constexpr size_t kMaxWordBytes = 256;  // longer words are not cached
  static constexpr size_t kShards = 64;

 private:
  struct Slot {
    uint64_t hash = 0;
    uint32_t key_offset = 0, key_length = 0;
    uint32_t ids_offset = 0, ids_count = 0;
    bool used = false;
  };
  struct Shard {
    std::vector<Slot> slots;
    size_t mask = 0;
    size_t size = 0;
    std::string keys;
    std::vector<int32_t> values;
    mutable std::mutex mutex;

    size_t find_slot(std::string_view word, uint64_t hash) const;
    void grow();
  };
  static uint64_t hash_bytes(std::string_view word);
  // The top bits pick the shard; the low bits pick the slot inside it.
  static size_t shard_of(uint64_t hash) { return static_cast<size_t>(hash >> 58); }

  size_t max_slots_;  // per shard
  std::array<Shard, kShards> shards_;
};

}  // namespace loom::text
