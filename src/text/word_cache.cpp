#include "text/word_cache.h"

#include <cstring>

namespace loom::text {

namespace {
constexpr size_t kInitialSlots = size_t{1} << 12;
}  // namespace

WordCache::WordCache(int max_capacity_log2)
    : slots_(kInitialSlots), mask_(kInitialSlots - 1), max_slots_(size_t{1} << max_capacity_log2) {}

void WordCache::grow() {
  std::vector<Slot> old(slots_.size() * 2);
  old.swap(slots_);
  mask_ = slots_.size() - 1;
  for (const Slot& slot : old) {
    if (!slot.used) continue;
    size_t index = slot.hash & mask_;
    while (slots_[index].used) index = (index + 1) & mask_;
    slots_[index] = slot;
  }
}

uint64_t WordCache::hash_bytes(std::string_view word) {
  uint64_t h = 0x9E3779B97F4A7C15ULL ^ word.size();
  size_t i = 0;
  for (; i + 8 <= word.size(); i += 8) {
    uint64_t chunk;
    std::memcpy(&chunk, word.data() + i, 8);
    h = (h ^ chunk) * 0xFF51AFD7ED558CCDULL;
    h ^= h >> 32;
  }
  uint64_t tail = 0;
  if (i < word.size()) std::memcpy(&tail, word.data() + i, word.size() - i);
  // murmur3's fmix64: every input bit reaches the low bits used for the slot (words share long prefixes, "▁th…").
  h ^= tail;
  h ^= h >> 33;
  h *= 0xFF51AFD7ED558CCDULL;
  h ^= h >> 33;
  h *= 0xC4CEB9FE1A85EC53ULL;
  h ^= h >> 33;
  return h;
}

size_t WordCache::find_slot(std::string_view word, uint64_t hash) const {
  size_t index = hash & mask_;
  while (true) {
    const Slot& slot = slots_[index];
    if (!slot.used) return index;
    if (slot.hash == hash && slot.key_length == word.size() &&
        std::memcmp(keys_.data() + slot.key_offset, word.data(), word.size()) == 0) {
      return index;
    }
    index = (index + 1) & mask_;
  }
}

bool WordCache::lookup(std::string_view word, std::vector<int32_t>& ids) const {
  if (word.size() > kMaxWordBytes) return false;
  const uint64_t hash = hash_bytes(word);
  std::lock_guard<std::mutex> lock(mutex_);
  const Slot& slot = slots_[find_slot(word, hash)];
  if (!slot.used) return false;
  const int32_t* begin = values_.data() + slot.ids_offset;
  ids.insert(ids.end(), begin, begin + slot.ids_count);
  return true;
}

void WordCache::insert(std::string_view word, const int32_t* ids, size_t count) {
  if (word.size() > kMaxWordBytes) return;
  const uint64_t hash = hash_bytes(word);
  std::lock_guard<std::mutex> lock(mutex_);
  if (size_ * 2 >= slots_.size()) {
    if (slots_.size() >= max_slots_) return;  // full: stop caching
    grow();
  }
  Slot& slot = slots_[find_slot(word, hash)];
  if (slot.used) return;
  slot.used = true;
  slot.hash = hash;
  slot.key_offset = static_cast<uint32_t>(keys_.size());
  slot.key_length = static_cast<uint32_t>(word.size());
  slot.ids_offset = static_cast<uint32_t>(values_.size());
  slot.ids_count = static_cast<uint32_t>(count);
  keys_.append(word);
  values_.insert(values_.end(), ids, ids + count);
  ++size_;
}

}  // namespace loom::text
