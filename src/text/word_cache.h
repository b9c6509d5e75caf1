// A bounded, thread-safe map from a word (bytes) to its token ids, used to skip BPE for words already seen.
// Open addressing over one flat arena of keys and ids (no allocation per entry); lookups take a string_view.
// When full it stops inserting (as the `tokenizers` cache does), so memory stays bounded.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace loom::text {

class WordCache {
 public:
  // The table starts small (fewer cache misses for small vocabularies of words) and doubles up to
  // 2^max_capacity_log2 slots, holding at most half that many words.
  explicit WordCache(int max_capacity_log2 = 20);

  // Appends the cached ids of `word` to `ids` and returns true, or returns false when the word is not cached.
  bool lookup(std::string_view word, std::vector<int32_t>& ids) const;
  void insert(std::string_view word, const int32_t* ids, size_t count);

  static constexpr size_t kMaxWordBytes = 256;  // longer words are not cached

 private:
  struct Slot {
    uint64_t hash = 0;
    uint32_t key_offset = 0, key_length = 0;
    uint32_t ids_offset = 0, ids_count = 0;
    bool used = false;
  };
  static uint64_t hash_bytes(std::string_view word);
  size_t find_slot(std::string_view word, uint64_t hash) const;
  void grow();

  std::vector<Slot> slots_;
  size_t mask_;
  size_t max_slots_;
  size_t size_ = 0;
  std::string keys_;
  std::vector<int32_t> values_;
  mutable std::mutex mutex_;
};

}  // namespace loom::text
