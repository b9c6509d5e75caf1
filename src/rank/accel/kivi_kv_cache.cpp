// KIVI quantized KV cache (see kivi_kv_cache.h).
#include "rank/accel/kivi_kv_cache.h"

#include "common/error.h"
#include "kernels/accel/kivi_quant.h"
#include "kernels/attention.h"
#ifdef LOOM_ACCEL_TORCH_CUDA
#include "kernels/cuda/torch_accel_adapter.h"
#endif

#include <algorithm>

namespace loom::accel {

void GrowingRows::append(const at::Tensor& more) {
  const int64_t added = more.size(0);
  const int64_t capacity = storage.defined() ? storage.size(0) : 0;
  if (rows + added > capacity) {
    std::vector<int64_t> shape = more.sizes().vec();
    shape[0] = std::max(rows + added, capacity + capacity / 4);
    at::Tensor grown = at::empty(shape, more.options());
    if (rows > 0) grown.narrow(0, 0, rows).copy_(storage.narrow(0, 0, rows));
    storage = grown;
  }
  storage.narrow(0, rows, added).copy_(more);
  rows += added;
}

int64_t QuantizedGroups::bytes() const {
  return codes.numel() * static_cast<int64_t>(codes.element_size()) +
         scales.numel() * static_cast<int64_t>(scales.element_size()) +
         mins.numel() * static_cast<int64_t>(mins.element_size());
}

QuantizedGroups quantize_groups(const at::Tensor& x, int bits, at::ScalarType scale_dtype) {
  QuantizedGroups q;
  const int64_t num_groups = x.size(0);
  const int64_t group_size = x.size(1);
#ifdef LOOM_ACCEL_TORCH_CUDA
  if (x.is_cuda()) {
    kernels::cuda::kivi_quantize(x, bits, q.codes, q.scales, q.mins);
    q.scales = q.scales.to(scale_dtype);
    q.mins = q.mins.to(scale_dtype);
    return q;
  }
#endif
  at::Tensor xc = x.to(at::kCPU).to(at::kFloat).contiguous();
  q.codes = at::empty({num_groups, kernels::accel::kivi_group_bytes(group_size, bits)}, at::kByte);
  q.scales = at::empty({num_groups}, at::kFloat);
  q.mins = at::empty({num_groups}, at::kFloat);
  kernels::KiviQuantizeParams p;
  p.x = xc.data_ptr<float>();
  p.packed = q.codes.data_ptr<uint8_t>();
  p.scales = q.scales.data_ptr<float>();
  p.mins = q.mins.data_ptr<float>();
  p.num_groups = num_groups;
  p.group_size = group_size;
  p.bits = bits;
  kernels::accel::kivi_quantize_groups(p);
  q.codes = q.codes.to(x.device());
  q.scales = q.scales.to(scale_dtype).to(x.device());
  q.mins = q.mins.to(scale_dtype).to(x.device());
  return q;
}

at::Tensor dequantize_groups(const QuantizedGroups& q, int64_t group_size, int bits) {
#ifdef LOOM_ACCEL_TORCH_CUDA
  if (q.codes.is_cuda()) return kernels::cuda::kivi_dequantize(q.codes, q.scales, q.mins, group_size, bits);
#endif
  const int64_t num_groups = q.codes.size(0);
  at::Tensor codes = q.codes.to(at::kCPU).contiguous();
  at::Tensor scales = q.scales.to(at::kCPU).to(at::kFloat).contiguous();
  at::Tensor mins = q.mins.to(at::kCPU).to(at::kFloat).contiguous();
  at::Tensor out = at::empty({num_groups, group_size}, at::kFloat);
  kernels::KiviDequantizeParams p;
  p.packed = codes.data_ptr<uint8_t>();
  p.scales = scales.data_ptr<float>();
  p.mins = mins.data_ptr<float>();
  p.out = out.data_ptr<float>();
  p.num_groups = num_groups;
  p.group_size = group_size;
  p.bits = bits;
  kernels::accel::kivi_dequantize_groups(p);
  return out.to(q.codes.device());
}

KiviCache::KiviCache(const at::Tensor& keys, const at::Tensor& values, int64_t logical_length, KiviSettings settings)
    : settings_(settings), heads_(keys.size(0)), dim_(keys.size(2)), dtype_(keys.scalar_type()),
      logical_length_(logical_length) {
  LOOM_CHECK(kernels::accel::kivi_supported(settings_.group_size, settings_.k_bits) &&
                 kernels::accel::kivi_supported(settings_.group_size, settings_.v_bits),
             "KIVI bits {}/{} with group size {} are not supported", settings_.k_bits, settings_.v_bits,
             settings_.group_size);
  LOOM_CHECK(dim_ % settings_.group_size == 0 && settings_.residual_length % settings_.group_size == 0,
             "KIVI needs head_dim ({}) and residual_length ({}) to be multiples of group_size ({})", dim_,
             settings_.residual_length, settings_.group_size);
  scale_dtype_ = (dtype_ == at::kHalf || dtype_ == at::kBFloat16) ? dtype_ : at::kFloat;
  const int64_t total = keys.size(1);
  const int64_t r = settings_.residual_length;
  const int64_t key_quant = total < r ? 0 : total - total % r;
  if (key_quant > 0) quantize_keys(keys.narrow(1, 0, key_quant));
  full_keys_ = keys.narrow(1, key_quant, total - key_quant).clone();
  const int64_t value_quant = total <= r ? 0 : total - r;
  if (value_quant > 0) quantize_values(values.narrow(1, 0, value_quant));
  full_values_ = values.narrow(1, value_quant, total - value_quant).clone();
}

void KiviCache::quantize_keys(const at::Tensor& keys) {
  const int64_t n = keys.size(1), g = settings_.group_size;
  // Per channel, groups run along tokens: [H, d, n] -> [H * d * n/g, g]; stored token-group major.
  at::Tensor x = keys.to(at::kFloat).permute({0, 2, 1}).contiguous().reshape({-1, g});
  QuantizedGroups q = quantize_groups(x, settings_.k_bits, scale_dtype_);
  key_codes_.append(q.codes.reshape({heads_, dim_, n / g, -1}).permute({2, 0, 1, 3}));
  key_scales_.append(q.scales.reshape({heads_, dim_, n / g}).permute({2, 0, 1}));
  key_mins_.append(q.mins.reshape({heads_, dim_, n / g}).permute({2, 0, 1}));
  key_tokens_quantized_ += n;
}

void KiviCache::quantize_values(const at::Tensor& values) {
  const int64_t n = values.size(1), g = settings_.group_size;
  // Per token, groups run along channels: [H, n, d] -> [H * n * d/g, g]; stored token major.
  at::Tensor x = values.to(at::kFloat).contiguous().reshape({-1, g});
  QuantizedGroups q = quantize_groups(x, settings_.v_bits, scale_dtype_);
  value_codes_.append(q.codes.reshape({heads_, n, dim_ / g, -1}).permute({1, 0, 2, 3}));
  value_scales_.append(q.scales.reshape({heads_, n, dim_ / g}).permute({1, 0, 2}));
  value_mins_.append(q.mins.reshape({heads_, n, dim_ / g}).permute({1, 0, 2}));
  value_tokens_quantized_ += n;
}

void KiviCache::append(const at::Tensor& keys, const at::Tensor& values) {
  const int64_t added = keys.size(1);
  full_keys_ = at::cat({full_keys_, keys.to(dtype_)}, 1);
  full_values_ = at::cat({full_values_, values.to(dtype_)}, 1);
  logical_length_ += added;
  const int64_t r = settings_.residual_length;
  while (full_keys_.size(1) >= r) {
    quantize_keys(full_keys_.narrow(1, 0, r));
    full_keys_ = full_keys_.narrow(1, r, full_keys_.size(1) - r).clone();
  }
  if (full_values_.size(1) > r) {
    const int64_t excess = full_values_.size(1) - r;
    quantize_values(full_values_.narrow(1, 0, excess));
    full_values_ = full_values_.narrow(1, excess, r).clone();
  }
}

at::Tensor KiviCache::dequantized_keys() const {
  std::vector<at::Tensor> parts;
  const int64_t g = settings_.group_size, n = key_tokens_quantized_;
  if (n > 0) {
    QuantizedGroups q{key_codes_.view().permute({1, 2, 0, 3}).reshape({-1, key_codes_.storage.size(3)}),
                      key_scales_.view().permute({1, 2, 0}).reshape({-1}),
                      key_mins_.view().permute({1, 2, 0}).reshape({-1})};
    parts.push_back(dequantize_groups(q, g, settings_.k_bits).reshape({heads_, dim_, n}).permute({0, 2, 1}));
  }
  parts.push_back(full_keys_.to(at::kFloat));
  return at::cat(parts, 1);
}

at::Tensor KiviCache::dequantized_values() const {
  std::vector<at::Tensor> parts;
  const int64_t g = settings_.group_size, n = value_tokens_quantized_;
  if (n > 0) {
    QuantizedGroups q{value_codes_.view().permute({1, 0, 2, 3}).reshape({-1, value_codes_.storage.size(3)}),
                      value_scales_.view().permute({1, 0, 2}).reshape({-1}),
                      value_mins_.view().permute({1, 0, 2}).reshape({-1})};
    parts.push_back(dequantize_groups(q, g, settings_.v_bits).reshape({heads_, n, dim_}));
  }
  parts.push_back(full_values_.to(at::kFloat));
  return at::cat(parts, 1);
}

at::Tensor KiviCache::attend(const at::Tensor& queries, double scale) const {
#ifdef LOOM_ACCEL_TORCH_CUDA
  if (queries.is_cuda() && queries.size(1) == 1 && queries.scalar_type() == dtype_ && dtype_ == scale_dtype_ &&
      kernels::cuda::kivi_decode_supported(dim_, settings_.group_size, settings_.k_bits, settings_.v_bits,
                                           queries.size(0) / heads_)) {
    kernels::cuda::KiviTensors t;
    t.key_codes = key_codes_.view();
    t.key_scales = key_scales_.view();
    t.key_mins = key_mins_.view();
    t.value_codes = value_codes_.view();
    t.value_scales = value_scales_.view();
    t.value_mins = value_mins_.view();
    t.full_keys = full_keys_;
    t.full_values = full_values_;
    t.key_quant_tokens = key_tokens_quantized_;
    t.value_quant_tokens = value_tokens_quantized_;
    t.group_size = settings_.group_size;
    t.key_bits = settings_.k_bits;
    t.value_bits = settings_.v_bits;
    return kernels::cuda::kivi_decode_attention(queries.select(1, 0), t, scale, decode_blocks_per_sm_).unsqueeze(1);
  }
#endif
  at::Tensor keys = dequantized_keys().to(queries.scalar_type());
  at::Tensor values = dequantized_values().to(queries.scalar_type());
  return kernels::causal_tail_attention(queries, keys, values, scale);
}

std::pair<at::Tensor, at::Tensor> KiviCache::dense() const {
  return {dequantized_keys().to(dtype_), dequantized_values().to(dtype_)};
}

int64_t KiviCache::bytes() const {
  int64_t total = key_codes_.bytes() + key_scales_.bytes() + key_mins_.bytes() + value_codes_.bytes() +
                  value_scales_.bytes() + value_mins_.bytes();
  total += full_keys_.numel() * static_cast<int64_t>(full_keys_.element_size());
  total += full_values_.numel() * static_cast<int64_t>(full_values_.element_size());
  return total;
}

}  // namespace loom::accel
