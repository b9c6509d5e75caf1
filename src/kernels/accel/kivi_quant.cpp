// KIVI group quantization (see kivi_quant.h).
#include "kernels/accel/kivi_quant.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace loom::kernels::accel {

bool kivi_supported(int64_t group_size, int bits) {
  return (bits == 2 || bits == 4 || bits == 8) && group_size > 0 && (group_size * bits) % 8 == 0;
}

void kivi_quantize_groups(const KiviQuantizeParams& params) {
  const float* x = params.x;
  const int64_t num_groups = params.num_groups, group_size = params.group_size;
  const int bits = params.bits;
  uint8_t* packed = params.packed;
  float* scales = params.scales;
  float* mins = params.mins;
  const float max_code = static_cast<float>((1 << bits) - 1);
  const int64_t group_bytes = kivi_group_bytes(group_size, bits);
  for (int64_t g = 0; g < num_groups; ++g) {
    const float* in = x + g * group_size;
    uint8_t* out = packed + g * group_bytes;
    std::memset(out, 0, static_cast<size_t>(group_bytes));
    float mn = in[0];
    float mx = in[0];
    for (int64_t i = 1; i < group_size; ++i) {
      mn = std::min(mn, in[i]);
      mx = std::max(mx, in[i]);
    }
    const float scale = (mx - mn) / max_code;
    scales[g] = scale;
    mins[g] = mn;
    for (int64_t i = 0; i < group_size; ++i) {
      float code = 0.0f;
      if (scale > 0.0f) {
        code = std::nearbyint(std::clamp((in[i] - mn) / scale, 0.0f, max_code));
      }
      const int64_t bit = i * bits;
      out[bit / 8] = static_cast<uint8_t>(out[bit / 8] | (static_cast<unsigned>(code) << (bit % 8)));
    }
  }
}

void kivi_dequantize_groups(const KiviDequantizeParams& params) {
  const uint8_t* packed = params.packed;
  const float* scales = params.scales;
  const float* mins = params.mins;
  const int64_t num_groups = params.num_groups, group_size = params.group_size;
  const int bits = params.bits;
  float* out = params.out;
  const int64_t group_bytes = kivi_group_bytes(group_size, bits);
  const unsigned mask = (1u << bits) - 1u;
  for (int64_t g = 0; g < num_groups; ++g) {
    const uint8_t* in = packed + g * group_bytes;
    for (int64_t i = 0; i < group_size; ++i) {
      const int64_t bit = i * bits;
      const unsigned code = (in[bit / 8] >> (bit % 8)) & mask;
      out[g * group_size + i] = static_cast<float>(code) * scales[g] + mins[g];
    }
  }
}

}  // namespace loom::kernels::accel
