// Decode-time compression policy (see decoding_policy.h).
#include "rank/accel/decoding_policy.h"

#include "common/error.h"

#include <algorithm>

namespace loom::accel {

double decoding_target_ratio(int64_t total, int64_t target) {
  if (total <= target) return 0.0;
  const auto kept = [total](double ratio) { return static_cast<int64_t>(static_cast<double>(total) * (1.0 - ratio)); };
  double ratio = 1.0 - static_cast<double>(target) / static_cast<double>(total);
  double low = 0.0, high = 1.0;
  for (int iteration = 0; iteration < 20; ++iteration) {
    const int64_t n = kept(ratio);
    if (n == target) break;
    if (n > target) {
      low = ratio;
      ratio = (ratio + high) / 2;
    } else {
      high = ratio;
      ratio = (low + ratio) / 2;
    }
  }
  return ratio;
}

model::DecodeCompression DecodingPolicy::decode_compression() const {
  model::DecodeCompression spec;
  spec.interval = settings_.compression_interval;
  spec.target_size = settings_.target_size;
  spec.buffer_entries = settings_.hidden_states_buffer_size;
  spec.target_compression_ratio = settings_.target_compression_ratio;
  return spec;
}

std::vector<at::Tensor> DecodingPolicy::decode_kept_rows(const at::Tensor& keys, const at::Tensor& values,
                                                         const model::DecodeSummary& summary) {
  const int64_t total = keys.size(1);
  const int64_t target = summary.target_size > 0 ? summary.target_size : settings_.target_size;
  const double ratio = decoding_target_ratio(total, target);
  if (ratio == 0.0) return {};  // kvpress: ScorerPress.compress returns the cache unchanged
  // kvpress compute_n_kept
  const int64_t n_kept = ratio >= 1.0 ? 0 : std::max<int64_t>(1, static_cast<int64_t>(static_cast<double>(total) *
                                                                                     (1.0 - ratio)));
  model::PrefillSummary window;
  window.layer = summary.layer;
  window.prompt_length = total;
  window.o_proj_weight = summary.o_proj_weight;
  const int64_t w = scorer_query_window(settings_.scorer, total);
  if (w > 0) {
    const int64_t have = summary.queries.size(1);
    if (have <= w && settings_.scorer.kind == ScorerKind::kSnapKV) {
      throw Error(fmt::format("{}: SnapKV needs more than window_size ({}) buffered decode queries, {} were buffered "
                              "(kvpress asserts the same)", settings_.name, w, have));
    }
    window.window_queries = summary.queries.narrow(1, std::max<int64_t>(0, have - w), std::min(w, have));
  }
  ScoreInputs inputs{keys, values, &window, &context_};
  const at::Tensor scores = score_tokens(settings_.scorer, inputs);
  // kvpress ScorerPress.compress: scores.topk(n_kept) (sorted, largest first), rows stored in that order.
  const at::Tensor rows = std::get<1>(scores.topk(n_kept, -1, /*largest=*/true, /*sorted=*/true));
  std::vector<at::Tensor> kept;
  for (int64_t h = 0; h < rows.size(0); ++h) kept.push_back(rows[h].to(at::kLong));
  return kept;
}

}  // namespace loom::accel
