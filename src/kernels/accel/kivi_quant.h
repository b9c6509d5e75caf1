// KIVI group quantization, framework-free CPU reference (plain float arrays).
//
// A "group" is `group_size` consecutive floats. Each group is quantized asymmetrically to `bits` bits (2 or 4) the
// way KIVI's reference does it: mn = min, mx = max, scale = (mx - mn) / (2^bits - 1),
// code = round_half_even(clamp((x - mn) / scale, 0, 2^bits - 1)); a constant group (scale 0) gets code 0.
// Dequantized value = code * scale + mn. Codes are packed little-endian inside each byte (code i of a group lives
// at bit (i*bits) % 8 of byte (i*bits) / 8 of that group's bytes); group_size * bits must be a multiple of 8.
// Keys are quantized per channel (a group runs along tokens), values per token (a group runs along channels):
// the caller lays the data out so that each group is contiguous.
// The arguments travel in kernels::KiviQuantizeParams / KiviDequantizeParams, shared with the CUDA kernels of
// kernels/cuda/accel_kernels.h (there every pointer is device memory). They live in loom::kernels, outside both
// kernel namespaces, so argument-dependent lookup never turns a CUDA call that forgot its stream into a CPU call.
#pragma once

#include <cstdint>

namespace loom::kernels {

struct KiviQuantizeParams {
  const float* x = nullptr;   // fp32 [num_groups, group_size], contiguous (each group's values adjacent)
  uint8_t* packed = nullptr;  // uint8 [num_groups, accel::kivi_group_bytes(group_size, bits)], contiguous
  float* scales = nullptr;    // fp32 [num_groups]
  float* mins = nullptr;      // fp32 [num_groups]
  int64_t num_groups = 0;
  int64_t group_size = 0;  // values per group
  int bits = 2;            // bits per code: 2, 4 or 8 (accel::kivi_supported)
};

// Inverse of accel::kivi_quantize_groups.
struct KiviDequantizeParams {
  const uint8_t* packed = nullptr;  // uint8 [num_groups, accel::kivi_group_bytes(group_size, bits)], contiguous
  const float* scales = nullptr;    // fp32 [num_groups]
  const float* mins = nullptr;      // fp32 [num_groups]
  float* out = nullptr;             // fp32 [num_groups, group_size], contiguous
  int64_t num_groups = 0;
  int64_t group_size = 0;
  int bits = 2;
};

}  // namespace loom::kernels

namespace loom::kernels::accel {

// Bytes of packed codes of one group.
inline int64_t kivi_group_bytes(int64_t group_size, int bits) { return group_size * bits / 8; }

void kivi_quantize_groups(const KiviQuantizeParams& params);
void kivi_dequantize_groups(const KiviDequantizeParams& params);

// True when bits and group_size are supported (bits 2, 4 or 8; group_size * bits a multiple of 8).
bool kivi_supported(int64_t group_size, int bits);

}  // namespace loom::kernels::accel
