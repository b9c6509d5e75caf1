#include "kernels/attention.h"

#include "common/error.h"

#include <torch/version.h>
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 5)
#include <ATen/Context.h>
#define LOOM_HAS_SDPA_CUDNN_SWITCH 1
#endif

#include <algorithm>
#include <limits>

#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 1)
#define LOOM_HAS_SDPA_SCALE 1
#endif
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 5)
#define LOOM_HAS_SDPA_GQA 1
#endif

namespace loom::kernels {

namespace {

void check_shapes(const at::Tensor& queries, const at::Tensor& keys, const at::Tensor& values) {
  LOOM_CHECK(queries.dim() == 3 && keys.dim() == 3 && values.dim() == 3,
             "attention expects 3-d tensors, got queries {}, keys {}, values {}", queries.dim(), keys.dim(),
             values.dim());
  LOOM_CHECK(keys.sizes() == values.sizes(), "keys and values differ in shape");
  LOOM_CHECK(queries.size(2) == keys.size(2), "head_dim of queries ({}) and keys ({}) differ", queries.size(2),
             keys.size(2));
  LOOM_CHECK(keys.size(0) > 0 && queries.size(0) % keys.size(0) == 0,
             "num_heads {} is not a multiple of num_kv_heads {}", queries.size(0), keys.size(0));
  LOOM_CHECK(queries.size(1) <= keys.size(1), "{} queries but only {} keys", queries.size(1), keys.size(1));
}

#ifdef LOOM_HAS_SDPA_SCALE
// Repeats each KV head `group` times along dim 0 (transformers' repeat_kv).
at::Tensor repeat_kv(const at::Tensor& kv, int64_t group) {
  if (group == 1) return kv;
  const int64_t kv_heads = kv.size(0), length = kv.size(1), dim = kv.size(2);
  return kv.unsqueeze(1).expand({kv_heads, group, length, dim}).reshape({kv_heads * group, length, dim});
}

at::Tensor sdpa_attention(const at::Tensor& queries, const at::Tensor& keys, const at::Tensor& values, double scale) {
  const int64_t heads = queries.size(0), t_q = queries.size(1), total = keys.size(1);
  const int64_t group = heads / keys.size(0);
  const bool whole_sequence = t_q == total;  // plain causal (top-left aligned equals bottom-right aligned)
  const bool single_query = t_q == 1;        // attends everything
  at::Tensor q = queries.unsqueeze(0);
  if (whole_sequence || single_query) {
#ifdef LOOM_HAS_SDPA_GQA
    at::Tensor out = at::scaled_dot_product_attention(q, keys.unsqueeze(0), values.unsqueeze(0), {}, 0.0,
                                                      whole_sequence && t_q > 1, scale, /*enable_gqa=*/group > 1);
#else
    at::Tensor out = at::scaled_dot_product_attention(q, repeat_kv(keys, group).unsqueeze(0),
                                                      repeat_kv(values, group).unsqueeze(0), {}, 0.0,
                                                      whole_sequence && t_q > 1, scale);
#endif
    return out.squeeze(0);
  }
  // Bottom-right aligned causal mask: query i may see keys 0 .. total - t_q + i.
  at::Tensor key_pos = at::arange(total, queries.options().dtype(at::kLong));
  at::Tensor query_pos = at::arange(total - t_q, total, queries.options().dtype(at::kLong));
  at::Tensor mask = key_pos.unsqueeze(0).le(query_pos.unsqueeze(1));  // [t_q, total], true = attend
  at::Tensor out = at::scaled_dot_product_attention(q, repeat_kv(keys, group).unsqueeze(0),
                                                    repeat_kv(values, group).unsqueeze(0), mask, 0.0, false, scale);
  return out.squeeze(0);
}
#endif

}  // namespace

void use_shape_independent_sdpa_backends() {
#ifdef LOOM_HAS_SDPA_CUDNN_SWITCH
  at::globalContext().setSDPUseCuDNN(false);
#endif
}

at::Tensor causal_tail_attention_reference(const at::Tensor& queries, const at::Tensor& keys,
                                           const at::Tensor& values, double scale) {
  check_shapes(queries, keys, values);
  const int64_t heads = queries.size(0), t_q = queries.size(1), dim = queries.size(2);
  const int64_t kv_heads = keys.size(0), total = keys.size(1), group = heads / kv_heads;
  const int64_t prefix = total - t_q;
  at::Tensor k = keys.to(at::kFloat);
  at::Tensor v = values.to(at::kFloat);
  // [kv_heads, group, t_q, dim]: query heads of one KV head side by side.
  at::Tensor q = queries.to(at::kFloat).reshape({kv_heads, group, t_q, dim});
  at::Tensor out = at::empty({kv_heads, group, t_q, dim}, q.options());
  const int64_t row_bytes = heads * total * static_cast<int64_t>(sizeof(float));
  const int64_t block = std::max<int64_t>(1, std::min<int64_t>(t_q, kAttentionScoreBlockBytes / row_bytes));
  for (int64_t start = 0; start < t_q; start += block) {
    const int64_t rows = std::min(block, t_q - start);
    const int64_t visible = prefix + start + rows;  // keys any query of this block can see
    at::Tensor qb = q.narrow(2, start, rows).reshape({kv_heads, group * rows, dim});
    at::Tensor kb = k.narrow(1, 0, visible), vb = v.narrow(1, 0, visible);
    at::Tensor scores = at::matmul(qb, kb.transpose(1, 2)).mul_(scale);  // [kv_heads, group*rows, visible]
    if (rows > 1) {
      at::Tensor key_pos = at::arange(visible, q.options().dtype(at::kLong));
      at::Tensor query_pos = at::arange(prefix + start, prefix + start + rows, q.options().dtype(at::kLong));
      at::Tensor hidden = key_pos.unsqueeze(0).gt(query_pos.unsqueeze(1));  // [rows, visible]
      scores = scores.view({kv_heads, group, rows, visible})
                   .masked_fill_(hidden, -std::numeric_limits<float>::infinity())
                   .view({kv_heads, group * rows, visible});
    }
    at::Tensor probs = at::softmax(scores, -1);
    out.narrow(2, start, rows).copy_(at::matmul(probs, vb).view({kv_heads, group, rows, dim}));
  }
  return out.reshape({heads, t_q, dim}).to(queries.scalar_type());
}

at::Tensor causal_tail_attention(const at::Tensor& queries, const at::Tensor& keys, const at::Tensor& values,
                                 double scale) {
#ifdef LOOM_HAS_SDPA_SCALE
  if (queries.is_cuda()) {
    check_shapes(queries, keys, values);
    return sdpa_attention(queries, keys, values, scale);
  }
#endif
  return causal_tail_attention_reference(queries, keys, values, scale);
}

}  // namespace loom::kernels
