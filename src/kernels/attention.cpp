#include "kernels/attention.h"

#include "common/error.h"

#include <torch/version.h>
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 5)
#include <ATen/Context.h>
#define LOOM_HAS_SDPA_GQA 1
#if defined(LOOM_ACCEL_TORCH_CUDA)
#define LOOM_HAS_FUSED_PREFILL 1
#include "kernels/cuda/merge_attention.h"

#include <ATen/cuda/CUDAContext.h>
#include <spdlog/spdlog.h>
#endif
#endif
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 1)
#define LOOM_HAS_SDPA_SCALE 1
#endif

#include <algorithm>
#include <limits>
#include <tuple>

namespace loom::kernels {

namespace {

enum class Backend { kSdpa, kFlash, kCudnn };
Backend g_backend = Backend::kSdpa;

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

#ifdef LOOM_HAS_FUSED_PREFILL
constexpr int64_t kChunkPadding = 256;

bool fused_supported(const at::Tensor& queries) {
  const at::ScalarType type = queries.scalar_type();
  const int64_t dim = queries.size(2);
  return (type == at::kBFloat16 || type == at::kHalf) && dim % 8 == 0 && dim <= 256;
}

at::Tensor flash_attention(const at::Tensor& queries, const at::Tensor& keys, const at::Tensor& values, double scale) {
  // FlashAttention-2 aligns its causal mask bottom-right when there are fewer queries than keys.
  auto result = at::_scaled_dot_product_flash_attention(queries.unsqueeze(0), keys.unsqueeze(0), values.unsqueeze(0),
                                                        0.0, /*is_causal=*/true, false, scale);
  return std::get<0>(result).squeeze(0);
}

// x [heads, T, dim] (any strides, last dim contiguous) as [1, heads, T, dim] with a batch stride that does not
// depend on where the view sits (cuDNN keys its execution plans on strides).
at::Tensor batch_of_one(const at::Tensor& x) {
  return x.as_strided({1, x.size(0), x.size(1), x.size(2)},
                      {x.size(0) * x.size(1) * x.size(2), x.stride(0), x.stride(1), x.stride(2)}, x.storage_offset());
}

// cuDNN attention of q [heads, t, dim] over k/v [kv_heads, T, dim]: output [1, heads, t, dim] and natural-log
// log-sum-exp [heads, t].
std::pair<at::Tensor, at::Tensor> cudnn_part(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                             bool causal, double scale) {
  auto result = at::_scaled_dot_product_cudnn_attention(batch_of_one(q), batch_of_one(k), batch_of_one(v),
                                                         std::nullopt, /*compute_log_sumexp=*/true, 0.0, causal,
                                                         false, scale);
  at::Tensor lse = std::get<1>(result);
  return {std::get<0>(result), lse.reshape({q.size(0), q.size(1)})};
}

cuda::ElementType element_type(const at::Tensor& t) {
  return t.scalar_type() == at::kHalf ? cuda::ElementType::kFloat16 : cuda::ElementType::kBFloat16;
}

at::Tensor cudnn_attention(const at::Tensor& queries, const at::Tensor& keys, const at::Tensor& values,
                           double scale) {
  const int64_t heads = queries.size(0), t = queries.size(1), dim = queries.size(2);
  const int64_t kv_heads = keys.size(0), total = keys.size(1), prefix = total - t;
  const int64_t padded = (t + kChunkPadding - 1) / kChunkPadding * kChunkPadding;
  // The chunk, padded: extra queries give rows nobody reads; extra keys sit after every real query (masked).
  at::Tensor q = at::zeros({heads, padded, dim}, queries.options());
  q.narrow(1, 0, t).copy_(queries);
  at::Tensor own_k = at::zeros({kv_heads, padded, dim}, keys.options());
  at::Tensor own_v = at::zeros({kv_heads, padded, dim}, values.options());
  own_k.narrow(1, 0, t).copy_(keys.narrow(1, prefix, t));
  own_v.narrow(1, 0, t).copy_(values.narrow(1, prefix, t));
  auto [own, own_lse] = cudnn_part(q, own_k, own_v, /*causal=*/true, scale);
  if (prefix == 0) return own.squeeze(0).narrow(1, 0, t);
  auto [past, past_lse] = cudnn_part(q, keys.narrow(1, 0, prefix), values.narrow(1, 0, prefix), false, scale);
  at::Tensor out = at::empty({heads, t, dim}, queries.options());
  at::Tensor a = past.squeeze(0), b = own.squeeze(0);
  at::Tensor la = past_lse.contiguous(), lb = own_lse.contiguous();
  cuda::MergeAttentionParams p;
  p.type = element_type(out);
  p.out_a = a.data_ptr();
  p.out_b = b.data_ptr();
  p.lse_a = la.data_ptr<float>();
  p.lse_b = lb.data_ptr<float>();
  p.out = out.data_ptr();
  p.heads = static_cast<int32_t>(heads);
  p.tokens = static_cast<int32_t>(t);
  p.head_dim = static_cast<int32_t>(dim);
  p.a_head_stride = a.stride(0);
  p.a_token_stride = a.stride(1);
  p.b_head_stride = b.stride(0);
  p.b_token_stride = b.stride(1);
  p.out_head_stride = out.stride(0);
  p.out_token_stride = out.stride(1);
  p.lse_a_head_stride = la.stride(0);
  p.lse_b_head_stride = lb.stride(0);
  LOOM_CHECK(a.stride(2) == 1 && b.stride(2) == 1, "cuDNN attention output without a contiguous head_dim");
  const cudaError_t status = cuda::merge_attention(p, at::cuda::getCurrentCUDAStream());
  LOOM_CHECK(status == cudaSuccess, "merge_attention failed: {}", cudaGetErrorString(status));
  return out;
}

// Whether `backend` matches the fp32 reference on a small chunked problem (GQA, a prefix, an unpadded chunk).
bool self_check(Backend backend, at::Device device) {
  try {
    const at::TensorOptions opts = at::TensorOptions().dtype(at::kBFloat16).device(device);
    at::Tensor q = at::randn({8, 300, 128}, opts);
    at::Tensor k = at::randn({2, 812, 128}, opts);
    at::Tensor v = at::randn({2, 812, 128}, opts);
    const double scale = 1.0 / std::sqrt(128.0);
    at::Tensor expected = causal_tail_attention_reference(q, k, v, scale).to(at::kFloat);
    at::Tensor got = (backend == Backend::kCudnn ? cudnn_attention(q, k, v, scale) : flash_attention(q, k, v, scale))
                         .to(at::kFloat);
    const double error = ((got - expected).norm() / expected.norm()).item<double>();
    return std::isfinite(error) && error < 2e-2;
  } catch (const std::exception& e) {
    spdlog::warn("prefill attention self-check failed: {}", e.what());
    return false;
  }
}
#endif

at::Tensor dispatch(Backend backend, const at::Tensor& queries, const at::Tensor& keys, const at::Tensor& values,
                    double scale) {
#ifdef LOOM_HAS_FUSED_PREFILL
  if (fused_supported(queries) && queries.scalar_type() == keys.scalar_type()) {
    if (backend == Backend::kCudnn && queries.size(1) > 1) return cudnn_attention(queries, keys, values, scale);
    if (backend == Backend::kFlash || backend == Backend::kCudnn) return flash_attention(queries, keys, values, scale);
  }
#endif
#ifdef LOOM_HAS_SDPA_SCALE
  return sdpa_attention(queries, keys, values, scale);
#else
  (void)backend;
  return causal_tail_attention_reference(queries, keys, values, scale);
#endif
}

}  // namespace

void select_prefill_attention(const std::string& name, at::Device device) {
  if (name != "auto" && name != "cudnn" && name != "flash" && name != "sdpa") {
    throw InputError("", 0, "model.prefill_attention", fmt::format("auto, cudnn, flash or sdpa (got '{}')", name));
  }
  if (!device.is_cuda()) return;
#ifdef LOOM_HAS_SDPA_GQA
  // libtorch's dispatcher stays off cuDNN: its per-shape plans made single-query calls (quantized and pruned caches
  // decode through it) cost 63.6 ms/token on an H200 instead of 2.9 (docs/performance/accel-engine.md).
  at::globalContext().setSDPUseCuDNN(false);
#endif
  if (name == "sdpa") {
    g_backend = Backend::kSdpa;
    return;
  }
#ifdef LOOM_HAS_FUSED_PREFILL
  if (name == "flash") {
    g_backend = Backend::kFlash;
  } else if (name == "cudnn") {
    g_backend = Backend::kCudnn;
  } else {
    g_backend = self_check(Backend::kCudnn, device) ? Backend::kCudnn
                : self_check(Backend::kFlash, device) ? Backend::kFlash
                                                      : Backend::kSdpa;
  }
#else
  if (name != "auto") {
    throw InputError("", 0, "model.prefill_attention",
                     fmt::format("auto or sdpa: this build has no fused prefill attention (got '{}')", name));
  }
  g_backend = Backend::kSdpa;
#endif
}

std::string prefill_attention_name() {
  switch (g_backend) {
    case Backend::kCudnn: return "cudnn";
    case Backend::kFlash: return "flash";
    case Backend::kSdpa: return "sdpa";
  }
  return "sdpa";
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
  if (queries.is_cuda()) {
    check_shapes(queries, keys, values);
    return dispatch(g_backend, queries, keys, values, scale);
  }
  return causal_tail_attention_reference(queries, keys, values, scale);
}

at::Tensor causal_tail_attention_with(const std::string& backend, const at::Tensor& queries, const at::Tensor& keys,
                                      const at::Tensor& values, double scale) {
  check_shapes(queries, keys, values);
  if (backend == "reference" || !queries.is_cuda()) return causal_tail_attention_reference(queries, keys, values, scale);
  if (backend == "cudnn") return dispatch(Backend::kCudnn, queries, keys, values, scale);
  if (backend == "flash") return dispatch(Backend::kFlash, queries, keys, values, scale);
  return dispatch(Backend::kSdpa, queries, keys, values, scale);
}

}  // namespace loom::kernels
