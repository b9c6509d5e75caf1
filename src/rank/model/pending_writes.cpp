#include "rank/model/pending_writes.h"

namespace loom::model {

void PendingWrites::set(int64_t index, int32_t value) {
  const auto [it, inserted] = position_.emplace(index, indices_.size());
  if (!inserted) {
    values_[it->second] = value;
    return;
  }
  indices_.push_back(index);
  values_.push_back(value);
}

std::pair<std::vector<int64_t>, std::vector<int32_t>> PendingWrites::take() {
  std::pair<std::vector<int64_t>, std::vector<int32_t>> writes{std::move(indices_), std::move(values_)};
  indices_.clear();
  values_.clear();
  position_.clear();
  return writes;
}

}  // namespace loom::model
