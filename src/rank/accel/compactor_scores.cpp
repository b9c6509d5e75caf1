// Compactor token scores (see compactor_scores.h).
#include "rank/accel/compactor_scores.h"

#include "common/error.h"
#include "kernels/rope.h"
#include "rank/accel/token_scorers.h"
#include "rank/parallel/communicator.h"

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <cmath>

namespace loom::accel {

namespace {

bool tensor_parallel(const parallel::Communicator* tp) { return tp != nullptr && tp->size() > 1; }

// kvpress: (s - s.mean()) / s.std().clamp_min(1e-6) over the whole [B, H_kv, S] tensor (every head of the layer;
// under tensor parallelism the statistics of all ranks' heads).
at::Tensor z_normalised(const at::Tensor& scores, parallel::Communicator* tp) {
  const at::Tensor all = tensor_parallel(tp) ? tp->all_gather(scores.contiguous(), 0) : scores;
  return (scores - all.mean()) / all.std().clamp_min(1e-6);
}

// Keys rotated at positions start .. start + S - 1 back to their pre-RoPE values: x * cos - rotate_half(x) * sin.
at::Tensor unrotated(const at::Tensor& keys, const at::Tensor& inv_freq, int64_t start) {
  const int64_t head_dim = keys.size(-1);
  LOOM_CHECK(inv_freq.defined() && 2 * inv_freq.size(0) == head_dim,
             "compactor needs RoPE over the whole head_dim ({}) to recover the pre-RoPE keys", head_dim);
  auto [cos, sin] = kernels::rope_cos_sin(inv_freq.to(keys.device()), start, keys.size(1), 1.0, at::kFloat);
  return kernels::apply_rope(keys, cos, -sin);
}

// The Gaussian sketch of this rank's KV heads: torch.randn(total_heads, d, k) from a CPU generator seeded with
// `seed`, times 1 / sqrt(k); this rank's block of heads.
at::Tensor gaussian_sketch(const CompactorSettings& s, int64_t kv_heads, int64_t head_dim,
                           const parallel::Communicator* tp, at::Device device) {
  const int64_t ranks = tensor_parallel(tp) ? tp->size() : 1;
  at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(s.seed);
  at::Tensor phi = at::randn({kv_heads * ranks, head_dim, s.sketch_dimension}, generator,
                             at::TensorOptions(at::kFloat));
  phi = phi * (1.0 / std::sqrt(static_cast<double>(s.sketch_dimension)));
  if (ranks > 1) phi = phi.narrow(0, static_cast<int64_t>(tp->rank()) * kv_heads, kv_heads);
  return phi.to(device);
}

}  // namespace

at::Tensor leverage_scores(const at::Tensor& pre_rope_keys, const at::Tensor& sketch) {
  const at::Tensor centred = pre_rope_keys - pre_rope_keys.mean(1, true);
  const at::Tensor x = at::matmul(centred, sketch);  // [H, S, k]
  const at::Tensor xt = x.transpose(1, 2);            // [H, k, S]
  const at::Tensor gram = at::matmul(xt, x);
  const at::Tensor symmetric = 0.5 * (gram + gram.transpose(1, 2));
  const at::Tensor identity = at::eye(symmetric.size(-1), symmetric.options());
  // kvpress chol_with_jitter(jitter=1e-2, max_tries=5): every head must factor, else retry all with 10x jitter.
  double jitter = 1e-2;
  at::Tensor factor;
  for (int attempt = 0; attempt < 5 && !factor.defined(); ++attempt) {
    auto [l, info] = at::linalg_cholesky_ex(symmetric + jitter * identity, false, false);
    if (info.eq(0).all().item<bool>()) {
      factor = l;
    } else {
      jitter = std::max(1e-8, jitter == 0.0 ? 1e-2 : 10.0 * jitter);
    }
  }
  LOOM_CHECK(factor.defined(), "compactor: the Cholesky factorisation of the key sketch failed after 5 tries");
  const at::Tensor solved = at::cholesky_solve(xt, factor, false);  // (X^T X)^-1 X^T, [H, k, S]
  return (x * solved.transpose(1, 2)).sum(-1).clamp_min(0);
}

at::Tensor non_causal_chunked_attention(const at::Tensor& queries, const at::Tensor& keys, int64_t chunk_size) {
  const int64_t heads = queries.size(0), length = queries.size(1), dim = queries.size(2);
  const int64_t padded = (length + chunk_size - 1) / chunk_size * chunk_size;
  const int64_t chunks = padded / chunk_size;
  const int64_t pad = padded - length;
  const auto options = queries.options();
  // Validity of the last chunk's rows (kvpress: positions last_chunk_start .. padded - 1 at or past the length).
  const int64_t last_start = pad > 0 ? (length / chunk_size) * chunk_size : ((length - 1) / chunk_size) * chunk_size;
  const at::Tensor invalid = at::arange(last_start, padded, options.dtype(at::kLong)).ge(length);
  at::Tensor out = at::empty({heads, padded}, options.dtype(at::kFloat));
  for (int64_t h = 0; h < heads; ++h) {  // one head at a time: [chunks, chunk, chunk] logits
    at::Tensor q = queries[h], k = keys[h];
    if (pad > 0) {
      q = at::cat({q, at::zeros({pad, dim}, options)}, 0);
      k = at::cat({k, at::zeros({pad, dim}, options)}, 0);
    }
    at::Tensor dots = at::matmul(q.view({chunks, chunk_size, dim}), k.view({chunks, chunk_size, dim}).transpose(1, 2));
    at::Tensor last = dots[chunks - 1];
    last.masked_fill_(invalid.unsqueeze(1), 0.0);
    last.masked_fill_(invalid.unsqueeze(0), -1e-9);
    out[h] = at::softmax(dots.to(at::kFloat), -1).sum(1).reshape({padded});
  }
  return out.narrow(1, 0, length);
}

at::Tensor compactor_scores(const CompactorSettings& s, const CompactorInputs& in) {
  const int64_t total = in.keys.size(1);
  const int64_t kv_heads = in.keys.size(0);
  const int64_t left = std::min(s.sink_size_start, total);
  const int64_t right = std::min(s.sink_size_end, std::max<int64_t>(0, total - left));
  const int64_t span = total - left - right;
  LOOM_CHECK(in.queries.defined() && in.queries.size(1) == total,
             "compactor needs the queries of every prompt position ({}), got {}", total,
             in.queries.defined() ? in.queries.size(1) : 0);
  if (span <= 0) {  // nothing between the sinks to score: the earliest tokens first
    return (-at::arange(total, in.keys.options().dtype(at::kFloat))).unsqueeze(0).expand({kv_heads, total}).clone();
  }

  const at::Tensor keys = in.keys.narrow(1, left, span).to(at::kFloat);
  const at::Tensor values = in.values.narrow(1, left, span).to(at::kFloat);
  const at::Tensor queries = in.queries.narrow(1, left, span).to(at::kFloat);

  const at::Tensor sketch = gaussian_sketch(s, kv_heads, keys.size(2), in.tp, keys.device());
  const at::Tensor leverage = z_normalised(leverage_scores(unrotated(keys, in.inv_freq, left), sketch), in.tp);

  const int64_t groups = queries.size(0) / kv_heads;
  const at::Tensor repeated = keys.repeat_interleave(groups, 0);
  at::Tensor attention = group_mean(non_causal_chunked_attention(queries, repeated, s.chunk_size), kv_heads);
  attention = attention * values.norm(2, -1);
  attention = at::avg_pool1d(attention.unsqueeze(0), {3}, {1}, {1}).squeeze(0);
  attention = z_normalised(attention, in.tp);

  const at::Tensor scores = in.blending * leverage + attention;
  const double top = scores.max().item<double>();
  return at::constant_pad_nd(scores, {left, right}, top);
}

}  // namespace loom::accel
