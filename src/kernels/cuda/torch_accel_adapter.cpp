// libtorch adapters over the acceleration CUDA kernels (see torch_accel_adapter.h).
#include "kernels/cuda/torch_accel_adapter.h"

#include "common/error.h"
#include "kernels/cuda/accel_kernels.h"

#include <ATen/cuda/CUDAContext.h>

namespace loom::kernels::cuda {

namespace {

ElementType element_type(const at::Tensor& t) {
  switch (t.scalar_type()) {
    case at::kFloat:
      return ElementType::kFloat32;
    case at::kBFloat16:
      return ElementType::kBFloat16;
    case at::kHalf:
      return ElementType::kFloat16;
    default:
      LOOM_CHECK(false, "acceleration CUDA kernels support float32, bfloat16 and float16, not {}",
                 c10::toString(t.scalar_type()));
  }
  return ElementType::kFloat32;
}

void check_status(cudaError_t status, const char* what) {
  LOOM_CHECK(status == cudaSuccess, "{} failed: {}", what, cudaGetErrorString(status));
}

}  // namespace

at::Tensor varlen_decode_attention(const at::Tensor& q, const at::Tensor& keys, const at::Tensor& values,
                                   const at::Tensor& offsets, const at::Tensor& lengths, int64_t max_length,
                                   double scale) {
  LOOM_CHECK(q.is_cuda() && q.dim() == 2 && keys.is_contiguous() && values.is_contiguous(), "bad varlen inputs");
  at::Tensor qc = q.contiguous();
  const int64_t num_heads = qc.size(0);
  const int64_t head_dim = qc.size(1);
  at::Tensor workspace = at::empty({varlen_decode_workspace_floats(num_heads, max_length, head_dim)},
                                   qc.options().dtype(at::kFloat));
  at::Tensor out = at::empty_like(qc);
  check_status(varlen_decode_attention(element_type(qc), qc.data_ptr(), keys.data_ptr(), values.data_ptr(),
                                       offsets.data_ptr<int64_t>(), lengths.data_ptr<int64_t>(), num_heads,
                                       offsets.size(0), head_dim, max_length, static_cast<float>(scale),
                                       workspace.data_ptr<float>(), out.data_ptr(),
                                       at::cuda::getCurrentCUDAStream()),
               "varlen_decode_attention");
  return out;
}

bool block_sparse_attention_supported(const at::Tensor& q, int64_t block_size) {
  return block_sparse_attention_supported(element_type(q), q.size(-1), block_size);
}

at::Tensor block_sparse_attention(const at::Tensor& q, const at::Tensor& keys, const at::Tensor& values,
                                  int64_t total_len, const at::Tensor& block_mask, int64_t block_size, double scale) {
  at::Tensor qc = q.contiguous();
  at::Tensor kc = keys.contiguous();
  at::Tensor vc = values.contiguous();
  at::Tensor mask = block_mask.to(at::kByte).contiguous();
  const int64_t t_q = qc.size(1);
  at::Tensor out = at::empty_like(qc);
  check_status(block_sparse_attention(element_type(qc), qc.data_ptr(), kc.data_ptr(), vc.data_ptr(), qc.size(0),
                                      kc.size(0), t_q, total_len - t_q, total_len, kc.size(1), qc.size(2),
                                      mask.data_ptr<uint8_t>(), block_size, static_cast<float>(scale),
                                      out.data_ptr(), at::cuda::getCurrentCUDAStream()),
               "block_sparse_attention");
  return out;
}

void kivi_quantize(const at::Tensor& x, int bits, at::Tensor& packed, at::Tensor& scales, at::Tensor& mins) {
  at::Tensor xc = x.to(at::kFloat).contiguous();
  const int64_t num_groups = xc.size(0);
  const int64_t group_size = xc.size(1);
  packed = at::empty({num_groups, group_size * bits / 8}, xc.options().dtype(at::kByte));
  scales = at::empty({num_groups}, xc.options());
  mins = at::empty({num_groups}, xc.options());
  check_status(kivi_quantize_groups(xc.data_ptr<float>(), num_groups, group_size, bits, packed.data_ptr<uint8_t>(),
                                    scales.data_ptr<float>(), mins.data_ptr<float>(),
                                    at::cuda::getCurrentCUDAStream()),
               "kivi_quantize_groups");
}

at::Tensor kivi_dequantize(const at::Tensor& packed, const at::Tensor& scales, const at::Tensor& mins,
                           int64_t group_size, int bits) {
  const int64_t num_groups = packed.size(0);
  at::Tensor out = at::empty({num_groups, group_size}, scales.options().dtype(at::kFloat));
  at::Tensor sc = scales.to(at::kFloat).contiguous();
  at::Tensor mn = mins.to(at::kFloat).contiguous();
  check_status(kivi_dequantize_groups(packed.data_ptr<uint8_t>(), sc.data_ptr<float>(), mn.data_ptr<float>(),
                                      num_groups, group_size, bits, out.data_ptr<float>(),
                                      at::cuda::getCurrentCUDAStream()),
               "kivi_dequantize_groups");
  return out;
}

}  // namespace loom::kernels::cuda
