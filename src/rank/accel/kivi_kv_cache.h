// KiviCache: KIVI's asymmetric 2/4-bit KV cache (keys per channel, values per token, full-precision residual).
//
// Built from the prompt's full-precision cache at finish_prefill (so prefill attention, also under chunked
// prefill, is exact as in KIVI's single-pass prefill) with KIVI's split (llama_kivi.py):
//   keys:   the first T - T % R tokens quantized per channel in groups of group_size tokens, the rest (< R) kept
//           full; during decoding full keys accumulate and are quantized R at a time when R are held;
//   values: all but the last R tokens quantized per token in groups of group_size channels; during decoding the
//           oldest full value is quantized once more than R are held.
// (R = residual_length, a multiple of group_size; head_dim a multiple of group_size.) Codes are bit-packed
// (kernels/accel/kivi_quant.h); scales/minima are stored in the cache dtype when it is 16-bit, else float32.
// Storage is token-major and grows in place (appends copy only the new rows): key groups
// [tokens / group_size, H, d, group bytes], value groups [tokens, H, d / group_size, group bytes] (the layouts
// kernels/cuda/kivi_decode.h reads). attend() of one query per head on CUDA runs the decode kernel straight from the
// codes; otherwise it dequantizes into temporaries and runs dense causal attention. bytes() counts the storage held.
#pragma once

#include "rank/model/kv_cache.h"

#include <ATen/ATen.h>

#include <vector>

namespace loom::accel {

struct KiviSettings {
  int k_bits = 2;
  int v_bits = 2;
  int64_t group_size = 32;
  int64_t residual_length = 128;
};

// One group-quantized tensor: codes [num_groups, group_bytes] uint8 plus per-group scale/min.
struct QuantizedGroups {
  at::Tensor codes;
  at::Tensor scales;
  at::Tensor mins;
  int64_t bytes() const;
};

// x float [num_groups, group_size] (any device) -> packed groups, and back (float32).
QuantizedGroups quantize_groups(const at::Tensor& x, int bits, at::ScalarType scale_dtype);
at::Tensor dequantize_groups(const QuantizedGroups& q, int64_t group_size, int bits);

// Rows along dim 0 with spare capacity, so appends copy only the new rows (growth by a quarter, or to what is needed).
struct GrowingRows {
  at::Tensor storage;  // [capacity, ...]
  int64_t rows = 0;
  void append(const at::Tensor& more);
  at::Tensor view() const { return storage.defined() ? storage.narrow(0, 0, rows) : storage; }
  int64_t bytes() const { return storage.defined() ? storage.numel() * static_cast<int64_t>(storage.element_size()) : 0; }
};

class KiviCache final : public model::LayerKVCache {
 public:
  KiviCache(const at::Tensor& keys, const at::Tensor& values, int64_t logical_length, KiviSettings settings);

  void append(const at::Tensor& keys, const at::Tensor& values) override;
  at::Tensor attend(const at::Tensor& queries, double scale) const override;
  std::pair<at::Tensor, at::Tensor> dense() const override;
  int64_t logical_length() const override { return logical_length_; }
  int64_t stored_tokens(int64_t kv_head) const override { return key_tokens_quantized_ + full_keys_.size(1); }
  int64_t bytes() const override;

  // Dequantized keys / values (float32, [H, T, d]); what attention sees.
  at::Tensor dequantized_keys() const;
  at::Tensor dequantized_values() const;

 private:
  void quantize_keys(const at::Tensor& keys);      // [H, n, d], n a multiple of group_size
  void quantize_values(const at::Tensor& values);  // [H, n, d]

  KiviSettings settings_;
  int64_t heads_ = 0;
  int64_t dim_ = 0;
  at::ScalarType dtype_ = at::kFloat;
  at::ScalarType scale_dtype_ = at::kFloat;
  GrowingRows key_codes_, key_scales_, key_mins_;        // [n / group, H, d, bytes] / [n / group, H, d]
  GrowingRows value_codes_, value_scales_, value_mins_;  // [n, H, d / group, bytes] / [n, H, d / group]
  int64_t key_tokens_quantized_ = 0;
  int64_t value_tokens_quantized_ = 0;
  at::Tensor full_keys_;    // [H, r, d]
  at::Tensor full_values_;  // [H, r', d]
  int64_t logical_length_ = 0;
  mutable int64_t decode_blocks_per_sm_ = 0;  // the CUDA decode kernel's occupancy, queried on the first attend()
};

}  // namespace loom::accel
