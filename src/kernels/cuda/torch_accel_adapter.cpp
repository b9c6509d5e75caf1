// libtorch adapters over the acceleration CUDA kernels (see torch_accel_adapter.h).
#include "kernels/cuda/torch_accel_adapter.h"

#include "common/error.h"
#include "kernels/cuda/accel_kernels.h"
#include "kernels/cuda/layer_kernels.h"
#include "kernels/paged_attention.h"

#include <ATen/cuda/CUDAContext.h>

#include <algorithm>
#include <cstdint>
#include <vector>

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

bool floating(const at::Tensor& t) {
  return t.scalar_type() == at::kFloat || t.scalar_type() == at::kBFloat16 || t.scalar_type() == at::kHalf;
}

// Whether a CUDA tensor of the layer kernels' element type can be read 8 elements at a time from its start and
// from every multiple of `step` elements.
bool vector_ready(const at::Tensor& t, at::ScalarType type) {
  return t.defined() && t.is_cuda() && t.scalar_type() == type && t.numel() > 0 &&
         reinterpret_cast<uintptr_t>(t.data_ptr()) % 16 == 0;
}

}  // namespace

at::Tensor fused_rms_norm(const at::Tensor& x, const at::Tensor& weight, double eps) {
  const int64_t dim = x.size(-1);
  if (!floating(x) || !vector_ready(x, x.scalar_type()) || !vector_ready(weight, x.scalar_type()) ||
      weight.dim() != 1 || weight.size(0) != dim || !weight.is_contiguous() || x.stride(-1) != 1 ||
      !layer_kernels_supported(element_type(x), dim) || x.dim() < 1 || x.dim() > 3) {
    return at::Tensor();
  }
  RmsNormParams p;
  p.type = element_type(x);
  p.rows.rows = x.numel() / dim;
  if (x.dim() == 3) {
    p.rows.inner = x.size(1);
    p.rows.outer_stride = x.stride(0);
    p.rows.inner_stride = x.stride(1);
  } else if (x.dim() == 2) {
    p.rows.outer_stride = x.stride(0);
  }
  if (p.rows.outer_stride % 8 != 0 || p.rows.inner_stride % 8 != 0 || p.rows.inner <= 0) return at::Tensor();
  at::Tensor out = at::empty(x.sizes(), x.options().memory_format(at::MemoryFormat::Contiguous));
  p.x = x.data_ptr();
  p.weight = weight.data_ptr();
  p.out = out.data_ptr();
  p.dim = dim;
  p.eps = static_cast<float>(eps);
  check_status(rms_norm(p, at::cuda::getCurrentCUDAStream()), "rms_norm kernel");
  return out;
}

bool fused_add_rms_norm(at::Tensor& hidden, const at::Tensor& delta, const at::Tensor& weight, double eps,
                        at::Tensor& out) {
  const at::ScalarType type = hidden.scalar_type();
  const int64_t dim = hidden.size(-1);
  if (!floating(hidden) || !vector_ready(hidden, type) || !vector_ready(delta, type) || !vector_ready(weight, type) ||
      !hidden.is_contiguous() || !delta.is_contiguous() || delta.sizes() != hidden.sizes() || weight.dim() != 1 ||
      weight.size(0) != dim || !layer_kernels_supported(element_type(hidden), dim)) {
    return false;
  }
  out = at::empty_like(hidden);
  AddRmsNormParams p;
  p.type = element_type(hidden);
  p.hidden = hidden.data_ptr();
  p.delta = delta.data_ptr();
  p.weight = weight.data_ptr();
  p.out = out.data_ptr();
  p.rows = hidden.numel() / dim;
  p.dim = dim;
  p.eps = static_cast<float>(eps);
  check_status(add_rms_norm(p, at::cuda::getCurrentCUDAStream()), "add_rms_norm kernel");
  return true;
}

at::Tensor fused_silu_mul(const at::Tensor& gate_up) {
  if (!floating(gate_up) || !vector_ready(gate_up, gate_up.scalar_type()) || !gate_up.is_contiguous() ||
      gate_up.size(-1) % 2 != 0 || !layer_kernels_supported(element_type(gate_up), gate_up.size(-1) / 2)) {
    return at::Tensor();
  }
  const int64_t inter = gate_up.size(-1) / 2;
  std::vector<int64_t> shape = gate_up.sizes().vec();
  shape.back() = inter;
  at::Tensor out = at::empty(shape, gate_up.options());
  SiluMulParams p;
  p.type = element_type(gate_up);
  p.gate_up = gate_up.data_ptr();
  p.out = out.data_ptr();
  p.rows = gate_up.numel() / (2 * inter);
  p.inter = inter;
  check_status(silu_mul(p, at::cuda::getCurrentCUDAStream()), "silu_mul kernel");
  return out;
}

at::Tensor fused_rope(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin) {
  const at::ScalarType type = x.scalar_type();
  if (x.dim() != 3 || !floating(x) || !vector_ready(x, type) || !vector_ready(cos, type) ||
      !vector_ready(sin, type) || x.stride(2) != 1 || !layer_kernels_supported(element_type(x), x.size(2))) {
    return at::Tensor();
  }
  at::Tensor c, s;
  try {
    c = cos.expand(x.sizes());
    s = sin.expand(x.sizes());
  } catch (const c10::Error&) {
    return at::Tensor();
  }
  if (c.strides() != s.strides() || c.stride(2) != 1) return at::Tensor();
  const Strided3 xs{x.stride(0), x.stride(1)}, cs{c.stride(0), c.stride(1)};
  for (int64_t stride : {xs.stride_a, xs.stride_b, cs.stride_a, cs.stride_b}) {
    if (stride % 8 != 0) return at::Tensor();
  }
  at::Tensor out = at::empty(x.sizes(), x.options().memory_format(at::MemoryFormat::Contiguous));
  RopeParams p;
  p.type = element_type(x);
  p.x = x.data_ptr();
  p.x_strides = xs;
  p.cos = cos.data_ptr();
  p.sin = sin.data_ptr();
  p.cos_sin_strides = cs;
  p.out = out.data_ptr();
  p.a = x.size(0);
  p.b = x.size(1);
  p.dim = x.size(2);
  check_status(rope(p, at::cuda::getCurrentCUDAStream()), "rope kernel");
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
  BlockSparseAttentionParams p;
  p.type = element_type(qc);
  p.q = qc.data_ptr();
  p.keys = kc.data_ptr();
  p.values = vc.data_ptr();
  p.block_mask = mask.data_ptr<uint8_t>();
  p.out = out.data_ptr();
  p.num_heads = qc.size(0);
  p.num_kv_heads = kc.size(0);
  p.t_q = t_q;
  p.q_start = total_len - t_q;
  p.total_len = total_len;
  p.key_stride = kc.size(1);
  p.head_dim = qc.size(2);
  p.block_size = block_size;
  p.scale = static_cast<float>(scale);
  check_status(block_sparse_attention(p, at::cuda::getCurrentCUDAStream()), "block_sparse_attention");
  return out;
}

void kivi_quantize(const at::Tensor& x, int bits, at::Tensor& packed, at::Tensor& scales, at::Tensor& mins) {
  at::Tensor xc = x.to(at::kFloat).contiguous();
  const int64_t num_groups = xc.size(0);
  const int64_t group_size = xc.size(1);
  packed = at::empty({num_groups, group_size * bits / 8}, xc.options().dtype(at::kByte));
  scales = at::empty({num_groups}, xc.options());
  mins = at::empty({num_groups}, xc.options());
  KiviQuantizeParams p;
  p.x = xc.data_ptr<float>();
  p.packed = packed.data_ptr<uint8_t>();
  p.scales = scales.data_ptr<float>();
  p.mins = mins.data_ptr<float>();
  p.num_groups = num_groups;
  p.group_size = group_size;
  p.bits = bits;
  check_status(kivi_quantize_groups(p, at::cuda::getCurrentCUDAStream()), "kivi_quantize_groups");
}

at::Tensor kivi_dequantize(const at::Tensor& packed, const at::Tensor& scales, const at::Tensor& mins,
                           int64_t group_size, int bits) {
  const int64_t num_groups = packed.size(0);
  at::Tensor out = at::empty({num_groups, group_size}, scales.options().dtype(at::kFloat));
  at::Tensor sc = scales.to(at::kFloat).contiguous();
  at::Tensor mn = mins.to(at::kFloat).contiguous();
  KiviDequantizeParams p;
  p.packed = packed.data_ptr<uint8_t>();
  p.scales = sc.data_ptr<float>();
  p.mins = mn.data_ptr<float>();
  p.out = out.data_ptr<float>();
  p.num_groups = num_groups;
  p.group_size = group_size;
  p.bits = bits;
  check_status(kivi_dequantize_groups(p, at::cuda::getCurrentCUDAStream()), "kivi_dequantize_groups");
  return out;
}

at::Tensor kivi_decode_attention(const at::Tensor& q, const KiviTensors& c, double scale, int64_t& blocks_per_sm) {
  at::Tensor qc = q.contiguous();
  at::Tensor full_keys = c.full_keys.contiguous(), full_values = c.full_values.contiguous();
  const int64_t heads = qc.size(0), dim = qc.size(1), kv_heads = full_keys.size(0);
  const int64_t total = c.key_quant_tokens + full_keys.size(1);
  LOOM_CHECK(total == c.value_quant_tokens + full_values.size(1), "KIVI cache holds {} key and {} value tokens", total,
             c.value_quant_tokens + full_values.size(1));
  at::Tensor out = at::empty_like(qc);
  const auto ptr = [](const at::Tensor& t) -> const void* { return t.defined() && t.numel() > 0 ? t.data_ptr() : nullptr; };
  at::Tensor key_codes = c.key_codes.defined() ? c.key_codes.contiguous() : c.key_codes;
  at::Tensor key_scales = c.key_scales.defined() ? c.key_scales.contiguous() : c.key_scales;
  at::Tensor key_mins = c.key_mins.defined() ? c.key_mins.contiguous() : c.key_mins;
  at::Tensor value_codes = c.value_codes.defined() ? c.value_codes.contiguous() : c.value_codes;
  at::Tensor value_scales = c.value_scales.defined() ? c.value_scales.contiguous() : c.value_scales;
  at::Tensor value_mins = c.value_mins.defined() ? c.value_mins.contiguous() : c.value_mins;
  KiviDecodeParams p;
  p.type = element_type(qc);
  p.q = qc.data_ptr();
  p.out = out.data_ptr();
  p.num_heads = static_cast<int32_t>(heads);
  p.num_kv_heads = static_cast<int32_t>(kv_heads);
  p.head_dim = static_cast<int32_t>(dim);
  p.group_size = static_cast<int32_t>(c.group_size);
  p.key_bits = c.key_bits;
  p.value_bits = c.value_bits;
  p.total_tokens = total;
  p.key_quant_tokens = c.key_quant_tokens;
  p.value_quant_tokens = c.value_quant_tokens;
  p.key_codes = static_cast<const uint8_t*>(ptr(key_codes));
  p.key_scales = ptr(key_scales);
  p.key_mins = ptr(key_mins);
  p.value_codes = static_cast<const uint8_t*>(ptr(value_codes));
  p.value_scales = ptr(value_scales);
  p.value_mins = ptr(value_mins);
  p.full_keys = ptr(full_keys);
  p.full_values = ptr(full_values);
  p.scale = static_cast<float>(scale);
  // Splits that fill the device in whole waves of (KV head, split) blocks, each split at least 128 tokens (one
  // step of the block's 4 warps).
  const int64_t sms = at::cuda::getCurrentDeviceProperties()->multiProcessorCount;
  if (blocks_per_sm <= 0) blocks_per_sm = std::max<int64_t>(1, kivi_decode_blocks_per_sm(p));
  const int64_t resident = blocks_per_sm * sms;
  const int64_t splits = choose_decode_splits(kv_heads, resident, std::clamp<int64_t>(total / 128, 1, 1024));
  at::Tensor workspace =
      at::empty({kivi_decode_workspace_floats(heads, dim, splits)}, qc.options().dtype(at::kFloat));
  p.num_splits = static_cast<int32_t>(splits);
  p.workspace = workspace.data_ptr<float>();
  check_status(kivi_decode_attention(p, at::cuda::getCurrentCUDAStream()), "kivi_decode_attention");
  return out;
}

}  // namespace loom::kernels::cuda
