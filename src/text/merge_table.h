// An open-addressing hash table from a pair of token ids to its BPE merge (rank, merged id). Built once, then
// read-only; lookups are one multiply and a short linear probe (the merge loop does millions of them).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace loom::text {

struct MergeEntry {
  int32_t rank;
  int32_t new_id;
};

class MergeTable {
 public:
  void reserve(size_t count);
  // Inserts or replaces (a later merge of the same pair wins, as in a map built in order).
  void set(int32_t left, int32_t right, MergeEntry entry);
  const MergeEntry* find(int32_t left, int32_t right) const {
    const uint64_t key = make_key(left, right);
    for (size_t index = slot_of(key);; index = (index + 1) & mask_) {
      const Slot& slot = slots_[index];
      if (slot.key == key) return &slot.entry;
      if (slot.key == kEmpty) return nullptr;
    }
  }

 private:
  static constexpr uint64_t kEmpty = ~uint64_t{0};
  struct Slot {
    uint64_t key = kEmpty;
    MergeEntry entry{};
  };
  static uint64_t make_key(int32_t left, int32_t right) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right);
  }
  // Fibonacci hashing: the top bits of the product depend on every bit of the key.
  size_t slot_of(uint64_t key) const { return static_cast<size_t>((key * 0x9E3779B97F4A7C15ULL) >> shift_); }
  void grow();

  std::vector<Slot> slots_ = std::vector<Slot>(16);
  size_t mask_ = 15;
  int shift_ = 60;  // 64 - log2(slots)
  size_t size_ = 0;
};

}  // namespace loom::text
