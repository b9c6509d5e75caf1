// Key/value-only partition scorers: CUR and LagKV (see partition_scorers.h).
#include "rank/accel/partition_scorers.h"

#include "common/error.h"

#include <vector>

namespace loom::accel {

namespace {

// x [H, T] -> x divided by its sum over consecutive windows of w tokens (the last window may be shorter).
at::Tensor window_normalised(const at::Tensor& x, int64_t w) {
  const int64_t total = x.size(1);
  const int64_t padded = (w - total % w) % w;
  at::Tensor blocks = at::constant_pad_nd(x, {0, padded}).reshape({x.size(0), -1, w});
  return (blocks / blocks.sum(-1, true)).reshape({x.size(0), -1}).narrow(1, 0, total);
}

// LagKV state score of [H, P + 1, lag, d] partitions -> [H, P, lag]: min-max normalise partition p by p + 1, std over
// channels (unbiased, as torch.std), softmax within the partition.
at::Tensor lag_state_scores(const at::Tensor& parts) {
  const int64_t n = parts.size(1);
  at::Tensor ref = parts.narrow(1, 1, n - 1);
  at::Tensor cur = parts.narrow(1, 0, n - 1);
  at::Tensor min_r = std::get<0>(ref.min(2, true));
  at::Tensor max_r = std::get<0>(ref.max(2, true));
  return ((cur - min_r) / (max_r - min_r)).std(-1, /*unbiased=*/true).softmax(-1);
}

}  // namespace

at::Tensor cur_scores(const at::Tensor& keys_in, const at::Tensor& values_in, int64_t n_sink,
                      const std::string& leverage, bool local_approximation, int64_t local_window) {
  at::Tensor k2 = keys_in.to(at::kFloat).pow(2).sum(-1);
  at::Tensor v2 = values_in.to(at::kFloat).pow(2).sum(-1);
  if (local_approximation) {
    k2 = window_normalised(k2, local_window);
    v2 = window_normalised(v2, local_window);
  }
  at::Tensor scores;
  if (leverage == "kv_product") {
    scores = k2 * v2;
  } else if (leverage == "kv_avg") {
    scores = (k2 + v2) / 2;
  } else if (leverage == "key") {
    scores = k2;
  } else {
    LOOM_CHECK(leverage == "value", "unknown CUR leverage {}", leverage);
    scores = v2;
  }
  scores = scores / scores.sum(-1, true);
  scores.narrow(1, 0, std::min(n_sink, scores.size(1))).fill_(1.0);
  return scores;
}

at::Tensor lagkv_scores(const at::Tensor& keys_in, const at::Tensor& values_in, int64_t n_sink, int64_t lag_size) {
  const int64_t heads = keys_in.size(0);
  const int64_t total = keys_in.size(1);
  const int64_t dim = keys_in.size(2);
  const at::TensorOptions f32 = keys_in.options().dtype(at::kFloat);
  if (total < n_sink + 2 * lag_size) {
    at::Tensor scores = at::ones({heads, total}, f32);
    if (total > n_sink) {
      scores.narrow(1, n_sink, total - n_sink)
          .copy_((at::arange(total - n_sink, f32) / static_cast<double>(total - n_sink)).unsqueeze(0));
    }
    return scores;
  }
  const int64_t end = n_sink + ((total - n_sink) / lag_size) * lag_size;
  const int64_t tail = lag_size + total - end;
  auto partitions = [&](const at::Tensor& x) {
    return x.to(at::kFloat).narrow(1, n_sink, end - n_sink).reshape({heads, -1, lag_size, dim});
  };
  at::Tensor score = (lag_state_scores(partitions(keys_in)) + lag_state_scores(partitions(values_in))) / 2;
  // Rank within the partition (torch's argsort twice: sort indices, then their sort indices).
  at::Tensor order = std::get<1>(score.sort(-1));
  score = std::get<1>(order.sort(-1)).to(at::kFloat) / static_cast<double>(lag_size);
  return at::cat({at::ones({heads, n_sink}, f32), score.reshape({heads, -1}), at::ones({heads, tail}, f32)}, 1);
}

}  // namespace loom::accel
