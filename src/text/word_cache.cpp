#include "text/word_cache.h"

#include <algorithm>
#include <cstring>

namespace loom::text {

namespace {
constexpr size_t kInitialSlots = size_t{1} << 12;  // in all shards together
static_assert(WordCache::kShards == 64, "shard_of takes the top 6 bits of the hash");
}  // namespace

WordCache::WordCache(int max_capacity_log2)
    : max_slots_(std::max<size_t>(size_t{1} << max_capacity_log2, kShards * 2) / kShards) {
  const size_t initial = std::min(kInitialSlots / kShards, max_slots_);
  for (Shard& shard : shards_) {
    shard.slots.resize(initial);
    shard.mask = initial - 1;
  }
}

void WordCache::Shard::grow() {
  std::vector<Slot> old(slots.size() * 2);
  old.swap(slots);
  mask = slots.size() - 1;
  for (const Slot& slot : old) {
    if (!slot.used) continue;
    size_t index = slot.hash & mask;
    while (slots[index].used) index = (index + 1) & mask;
    slots[index] = slot;
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
  // murmur3's fmix64: every input bit reaches the low bits used for the slot and the high bits used for the shard
  // (words share long prefixes, "▁th…").
  h ^= tail;
  h ^= h >> 33;
  h *= 0xFF51AFD7ED558CCDULL;
  h ^= h >> 33;
  h *= 0xC4CEB9FE1A85EC53ULL;
  h ^= h >> 33;
  return h;
}

size_t WordCache::Shard::find_slot(std::string_view word, uint64_t hash) const {
  size_t index = hash & mask;
  while (true) {
    const Slot& slot = slots[index];
    if (!slot.used) return index;
    if (slot.hash == hash && slot.key_length == word.size() &&
        std::memcmp(keys.data() + slot.key_offset, word.data(), word.size()) == 0) {
      return index;
    }
    index = (index + 1) & mask;
  }
}

bool WordCache::lookup(std::string_view word, std::vector<int32_t>& ids) const {
  if (word.size() > kMaxWordBytes) return false;
  const uint64_t hash = hash_bytes(word);
  const Shard& shard = shards_[shard_of(hash)];
  std::lock_guard<std::mutex> lock(shard.mutex);
  const Slot& slot = shard.slots[shard.find_slot(word, hash)];
  if (!slot.used) return false;
  const int32_t* begin = shard.values.data() + slot.ids_offset;
  ids.insert(ids.end(), begin, begin + slot.ids_count);
  return true;
}

void WordCache::insert(std::string_view word, const int32_t* ids, size_t count) {
  if (word.size() > kMaxWordBytes) return;
  const uint64_t hash = hash_bytes(word);
  Shard& shard = shards_[shard_of(hash)];
  std::lock_guard<std::mutex> lock(shard.mutex);
  if (shard.size * 2 >= shard.slots.size()) {
    if (shard.slots.size() >= max_slots_) return;  // full: stop caching
    shard.grow();
  }
  Slot& slot = shard.slots[shard.find_slot(word, hash)];
  if (slot.used) return;
  slot.used = true;
  slot.hash = hash;
  slot.key_offset = static_cast<uint32_t>(shard.keys.size());
  slot.key_length = static_cast<uint32_t>(word.size());
  slot.ids_offset = static_cast<uint32_t>(shard.values.size());
  slot.ids_count = static_cast<uint32_t>(count);
  shard.keys.append(word);
  shard.values.insert(shard.values.end(), ids, ids + count);
  ++shard.size;
}

}  // namespace loom::text
