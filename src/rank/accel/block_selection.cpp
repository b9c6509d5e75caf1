// Block-wise kept-position selection (see block_selection.h).
#include "rank/accel/block_selection.h"

#include <algorithm>

namespace loom::accel {

std::vector<at::Tensor> block_kept(const ScorerSettings& scorer, const ScoreInputs& inputs, int64_t n_kept,
                                   int64_t block_size) {
  const at::Tensor& keys = inputs.keys;
  const int64_t heads = keys.size(0);
  const int64_t total = keys.size(1);
  const int64_t dim = keys.size(2);
  const int64_t step = std::min(block_size, total);
  const at::TensorOptions index_options = keys.options().dtype(at::kLong);
  at::Tensor kept = at::arange(n_kept, index_options).unsqueeze(0).expand({heads, n_kept});
  for (int64_t start = n_kept; start < total; start += step) {
    const int64_t end = std::min(start + step, total);
    at::Tensor current =
        at::cat({kept, at::arange(start, end, index_options).unsqueeze(0).expand({heads, end - start})}, 1);
    at::Tensor gather_index = current.unsqueeze(-1).expand({heads, current.size(1), dim});
    ScoreInputs subset{keys.gather(1, gather_index), inputs.values.gather(1, gather_index), inputs.summary,
                       inputs.context};
    at::Tensor top = std::get<1>(score_tokens(scorer, subset).topk(n_kept, -1));
    kept = current.gather(1, top);
  }
  std::vector<at::Tensor> out;
  for (int64_t h = 0; h < heads; ++h) out.push_back(std::get<0>(kept[h].sort()));
  return out;
}

}  // namespace loom::accel
