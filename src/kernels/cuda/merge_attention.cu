// Merge of two partial attention results (see merge_attention.h): one thread per output element, coalesced along
// head_dim; the two log-sum-exp values of a (head, token) come from L1 for its head_dim threads.
#include "kernels/cuda/element_access.cuh"
#include "kernels/cuda/merge_attention.h"

#include <cmath>

namespace loom::kernels::cuda {

namespace {

template <class T>
__global__ void merge_attention_kernel(MergeAttentionParams p) {
  const int64_t total = static_cast<int64_t>(p.heads) * p.tokens * p.head_dim;
  const T* a = static_cast<const T*>(p.out_a);
  const T* b = static_cast<const T*>(p.out_b);
  T* out = static_cast<T*>(p.out);
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < total;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t d = i % p.head_dim;
    const int64_t t = (i / p.head_dim) % p.tokens;
    const int64_t h = i / (static_cast<int64_t>(p.head_dim) * p.tokens);
    const float la = p.lse_a[h * p.lse_a_head_stride + t];
    const float lb = p.lse_b[h * p.lse_b_head_stride + t];
    const float m = fmaxf(la, lb);
    float wa = 0.0f, wb = 0.0f;
    if (m != -INFINITY) {
      wa = __expf(la - m);
      wb = __expf(lb - m);
    }
    const float va = detail::to_float(a[h * p.a_head_stride + t * p.a_token_stride + d]);
    const float vb = detail::to_float(b[h * p.b_head_stride + t * p.b_token_stride + d]);
    const float denominator = wa + wb;
    out[h * p.out_head_stride + t * p.out_token_stride + d] =
        detail::from_float<T>(denominator > 0.0f ? (va * wa + vb * wb) / denominator : 0.0f);
  }
}

}  // namespace

cudaError_t merge_attention(const MergeAttentionParams& p, cudaStream_t stream) {
  const int64_t total = static_cast<int64_t>(p.heads) * p.tokens * p.head_dim;
  if (total == 0) return cudaSuccess;
  const int threads = 256;
  const int64_t blocks = std::min<int64_t>((total + threads - 1) / threads, 65535LL * 8);
  switch (p.type) {
    case ElementType::kFloat32:
      merge_attention_kernel<float><<<static_cast<unsigned>(blocks), threads, 0, stream>>>(p);
      break;
    case ElementType::kBFloat16:
      merge_attention_kernel<__nv_bfloat16><<<static_cast<unsigned>(blocks), threads, 0, stream>>>(p);
      break;
    case ElementType::kFloat16:
      merge_attention_kernel<__half><<<static_cast<unsigned>(blocks), threads, 0, stream>>>(p);
      break;
  }
  return cudaGetLastError();
}

}  // namespace loom::kernels::cuda
