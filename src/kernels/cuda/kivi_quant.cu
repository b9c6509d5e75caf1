// KIVI group quantization on the GPU: one warp per group (group_size <= 128 elements, 4 per lane at most);
// codes packed exactly as kernels/accel/kivi_quant.h describes.
#include "kernels/cuda/accel_kernels.h"
#include "kernels/cuda/element_access.cuh"

#include <cmath>

namespace loom::kernels::cuda {

namespace {

constexpr int kGroupsPerBlock = 4;

__global__ void kivi_quantize_kernel(const float* __restrict__ x, int64_t num_groups, int group_size, int bits,
                                     uint8_t* __restrict__ packed, float* __restrict__ scales,
                                     float* __restrict__ mins) {
  const int64_t group = static_cast<int64_t>(blockIdx.x) * kGroupsPerBlock + threadIdx.x / 32;
  const int lane = threadIdx.x % 32;
  if (group >= num_groups) return;
  const float* in = x + group * group_size;
  float mn = INFINITY;
  float mx = -INFINITY;
  for (int i = lane; i < group_size; i += 32) {
    mn = fminf(mn, in[i]);
    mx = fmaxf(mx, in[i]);
  }
  for (int offset = 16; offset > 0; offset >>= 1) {
    mn = fminf(mn, __shfl_xor_sync(0xffffffffu, mn, offset));
    mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, offset));
  }
  const float max_code = static_cast<float>((1 << bits) - 1);
  const float scale = __fdiv_rn(mx - mn, max_code);
  if (lane == 0) {
    scales[group] = scale;
    mins[group] = mn;
  }
  // Each byte is assembled by one lane: byte b holds codes b*8/bits .. (b+1)*8/bits - 1.
  const int group_bytes = group_size * bits / 8;
  const int codes_per_byte = 8 / bits;
  for (int b = lane; b < group_bytes; b += 32) {
    unsigned byte = 0;
    for (int k = 0; k < codes_per_byte; ++k) {
      const int i = b * codes_per_byte + k;
      float code = 0.0f;
      if (scale > 0.0f) code = rintf(fminf(fmaxf(__fdiv_rn(in[i] - mn, scale), 0.0f), max_code));
      byte |= static_cast<unsigned>(code) << (k * bits);
    }
    packed[group * group_bytes + b] = static_cast<uint8_t>(byte);
  }
}

__global__ void kivi_dequantize_kernel(const uint8_t* __restrict__ packed, const float* __restrict__ scales,
                                       const float* __restrict__ mins, int64_t total, int group_size, int bits,
                                       float* __restrict__ out) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= total) return;
  const int64_t group = i / group_size;
  const int64_t within = i % group_size;
  const int64_t bit = within * bits;
  const unsigned code = (packed[group * (group_size * bits / 8) + bit / 8] >> (bit % 8)) & ((1u << bits) - 1u);
  out[i] = __fadd_rn(__fmul_rn(static_cast<float>(code), scales[group]), mins[group]);
}

}  // namespace

cudaError_t kivi_quantize_groups(const KiviQuantizeParams& p, cudaStream_t stream) {
  if (!(p.bits == 2 || p.bits == 4 || p.bits == 8) || (p.group_size * p.bits) % 8 != 0 || p.num_groups <= 0) {
    return cudaErrorInvalidValue;
  }
  const unsigned blocks = static_cast<unsigned>((p.num_groups + kGroupsPerBlock - 1) / kGroupsPerBlock);
  kivi_quantize_kernel<<<blocks, kGroupsPerBlock * 32, 0, stream>>>(
      p.x, p.num_groups, static_cast<int>(p.group_size), p.bits, p.packed, p.scales, p.mins);
  return cudaGetLastError();
}

cudaError_t kivi_dequantize_groups(const KiviDequantizeParams& p, cudaStream_t stream) {
  const int64_t total = p.num_groups * p.group_size;
  if (total <= 0) return cudaErrorInvalidValue;
  const unsigned blocks = static_cast<unsigned>((total + 255) / 256);
  kivi_dequantize_kernel<<<blocks, 256, 0, stream>>>(p.packed, p.scales, p.mins, total,
                                                     static_cast<int>(p.group_size), p.bits, p.out);
  return cudaGetLastError();
}


}  // namespace loom::kernels::cuda
