// Block-wise and chunk-wise kept-position selection (see block_selection.h).
#include "rank/accel/block_selection.h"

#include "rank/accel/token_budget.h"

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

std::vector<at::Tensor> chunk_kept(const at::Tensor& scores, const at::Tensor& head_sum, int64_t n_kept,
                                   double keep_fraction, int64_t chunk_length) {
  const int64_t heads = scores.size(0);
  const int64_t total = scores.size(1);
  const int64_t complete = total / chunk_length;
  const int64_t remaining = total % chunk_length;
  if (complete == 0) return top_k_kept(scores, std::vector<int64_t>(static_cast<size_t>(heads), n_kept));
  std::vector<at::Tensor> parts = {head_sum.narrow(0, 0, complete * chunk_length).view({complete, chunk_length})
                                       .mean(-1)};
  if (remaining > 0) parts.push_back(head_sum.narrow(0, total - remaining, remaining).mean(-1, true));
  const at::Tensor chunk_scores = at::cat(parts, 0);
  const int64_t n_chunks = chunk_scores.size(0);
  const int64_t n_chunks_kept =
      std::max<int64_t>(1, static_cast<int64_t>(static_cast<double>(n_chunks) * keep_fraction));
  const at::Tensor top = std::get<1>(chunk_scores.topk(n_chunks_kept, -1)).cpu();
  std::vector<at::Tensor> ranges;
  const at::TensorOptions index_options = scores.options().dtype(at::kLong);
  for (int64_t i = 0; i < n_chunks_kept; ++i) {
    const int64_t chunk = top[i].item<int64_t>();
    const int64_t begin = chunk * chunk_length;
    ranges.push_back(at::arange(begin, std::min(begin + chunk_length, total), index_options));
  }
  const at::Tensor positions = std::get<0>(at::cat(ranges, 0).sort());
  return std::vector<at::Tensor>(static_cast<size_t>(heads), positions);
}

}  // namespace loom::accel
