// PendingWrites: int32 values queued for flat indices of a device tensor and applied in one scatter (PagedKVStore's
// page tables and lengths on CUDA). A later write to an index replaces an earlier one before anything is applied,
// so take() holds each index once, with its last value: a scatter (index_put_) with repeated indices keeps an
// unspecified one of them on CUDA, and a slot released (length 0) and loaded again (length n) before the next flush
// must end with n.
#pragma once

#include <cstddef>
#include <cstdint>
#include <unordered_map>
#include <utility>
#include <vector>

namespace loom::model {

class PendingWrites {
 public:
  void set(int64_t index, int32_t value);
  bool empty() const { return indices_.empty(); }
  // The queued writes, each index once (in the order first written) with its last value; the queue is left empty.
  std::pair<std::vector<int64_t>, std::vector<int32_t>> take();

 private:
  std::vector<int64_t> indices_;
  std::vector<int32_t> values_;
  std::unordered_map<int64_t, std::size_t> position_;  // index -> its entry in indices_ / values_
};

}  // namespace loom::model
