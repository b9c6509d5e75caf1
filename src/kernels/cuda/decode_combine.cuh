// Split-K decode attention: merging the splits of one query head (the decode kernels' last pass).
// Each split wrote (max, sum, unnormalised output) in base 2: max = max_t s_t * log2(e) * scale, sum =
// sum_t 2^(s'_t - max), acc = sum_t 2^(s'_t - max) v_t. Layout of the workspace for `rows` query heads:
// acc [rows, splits, head_dim], then max [rows, splits], then sum [rows, splits].
#pragma once

#include "kernels/cuda/element_access.cuh"

#include <cmath>
#include <cstdint>

namespace loom::kernels::cuda::detail {

struct SplitWorkspace {
  float* acc;
  float* max;
  float* sum;
  __host__ __device__ SplitWorkspace(float* base, int64_t rows, int32_t splits, int32_t head_dim)
      : acc(base), max(base + rows * splits * head_dim), sum(max + rows * splits) {}
  __host__ __device__ static int64_t floats(int64_t rows, int64_t splits, int64_t head_dim) {
    return rows * splits * (head_dim + 2);
  }
};

// out[row, :] = merged splits of query-head row `row`; call from a block whose threads stride over head_dim.
template <class T>
__device__ __forceinline__ void combine_splits(const SplitWorkspace& ws, int64_t row, int32_t splits,
                                               int32_t head_dim, T* out) {
  const int64_t first = row * splits;
  float total_max = -INFINITY;
  for (int s = 0; s < splits; ++s) total_max = fmaxf(total_max, ws.max[first + s]);
  for (int d = threadIdx.x; d < head_dim; d += blockDim.x) {
    float total_sum = 0.0f, total_acc = 0.0f;
    if (total_max != -INFINITY) {
      for (int s = 0; s < splits; ++s) {
        const float w = exp2f(ws.max[first + s] - total_max);
        total_sum = fmaf(ws.sum[first + s], w, total_sum);
        total_acc = fmaf(ws.acc[(first + s) * head_dim + d], w, total_acc);
      }
    }
    out[row * head_dim + d] = from_float<T>(total_sum > 0.0f ? total_acc / total_sum : 0.0f);
  }
}

}  // namespace loom::kernels::cuda::detail
