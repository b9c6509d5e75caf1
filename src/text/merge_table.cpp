#include "text/merge_table.h"

namespace loom::text {

void MergeTable::reserve(size_t count) {
  size_t capacity = 16;
  while (capacity < count * 2) capacity *= 2;
  if (capacity <= slots_.size()) return;
  std::vector<Slot> old;
  old.swap(slots_);
  slots_.assign(capacity, Slot{});
  mask_ = capacity - 1;
  shift_ = 64;
  for (size_t c = capacity; c > 1; c >>= 1) --shift_;
  size_ = 0;
  for (const Slot& slot : old) {
    if (slot.key != kEmpty) set(static_cast<int32_t>(slot.key >> 32), static_cast<int32_t>(slot.key & 0xFFFFFFFF),
                                slot.entry);
  }
}

void MergeTable::grow() { reserve(slots_.size()); }

void MergeTable::set(int32_t left, int32_t right, MergeEntry entry) {
  if ((size_ + 1) * 2 > slots_.size()) grow();
  const uint64_t key = make_key(left, right);
  for (size_t index = slot_of(key);; index = (index + 1) & mask_) {
    Slot& slot = slots_[index];
    if (slot.key == key) {
      slot.entry = entry;
      return;
    }
    if (slot.key == kEmpty) {
      slot.key = key;
      slot.entry = entry;
      ++size_;
      return;
    }
  }
}

}  // namespace loom::text
