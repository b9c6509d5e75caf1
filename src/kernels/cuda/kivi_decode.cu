// KIVI decode attention from packed codes (see kivi_decode.h). One block of 4 warps per (KV head, split of the
// tokens); a warp takes 32 tokens at a time and first stages what they need in its own part of shared memory with
// independent 8-byte loads (the tokens' key codes of every channel, their value codes, value scales and minima), so
// a step's loads are in flight together rather than one dependent load per channel:
//   scores  — keys are quantized per channel in groups of group_size tokens (a multiple of 32), so the 32 tokens
//             share each channel's scale s_j and minimum m_j and q.k = sum_j (q_j s_j) c_j + sum_j q_j m_j: the warp
//             forms q_j s_j and the bias once per step, then lane i (token t0 + i) turns its codes of 4 channels at
//             a time into floats (exact, by the 2^23 mantissa trick) and folds them into one dot per query head;
//   softmax — online, base 2, per query head, reduced over the warp; the probabilities go to shared memory;
//   values  — lanes own head_dim / 32 channels (inside one value group) and walk the 32 tokens: one 32-bit code
//             word, the token's (scale, minimum) and the probabilities of every query head per token.
// Tokens past the quantized ranges come from the full-precision tails. The warps' partial states merge in shared
// memory into one (max, sum, output) per query head and split, which combine_splits (decode_combine.cuh) merges
// over the splits.
#include "kernels/cuda/decode_combine.cuh"
#include "kernels/cuda/element_access.cuh"
#include "kernels/cuda/kivi_decode.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace loom::kernels::cuda {

namespace {

using detail::from_float;
using detail::SplitWorkspace;
using detail::to_float;
using detail::warp_max;
using detail::warp_sum;

constexpr int kWarps = 4;
constexpr int kThreads = 32 * kWarps;
constexpr int kTokens = 32;  // tokens a warp takes per step
constexpr int kKeyPad = 4;   // words after each staged key-code row: 16-byte reads of lanes on different rows
                             // fall in different banks
constexpr float kLog2e = 1.4426950408889634f;
constexpr int kMaxStaticSharedBytes = 48 * 1024;

// Blocks per SM the register budget is cut for (80 registers up to a group of 4 query heads per KV head, the
// Llama-3 / Qwen3 shapes); larger groups keep more accumulators.
template <int G>
constexpr int min_blocks_per_sm() {
  return G <= 4 ? 6 : 4;
}

__host__ __device__ constexpr int padded_group(int group) { return (group + 3) & ~3; }

// One warp's staging area in shared memory, in 32-bit words (every part starts on a 16-byte boundary).
struct StageLayout {
  int key_row = 0;       // words per staged key-code row: head_dim + kKeyPad
  int qs = 0;            // q_j * s_j * scale * log2(e) [head_dim][padded group] (after key_bits rows of key codes)
  int value_codes = 0;   // [32 tokens][head_dim * value_bits / 32]
  int value_affine = 0;  // (scale, minimum) [32 tokens][head_dim / group_size][2]
  int probs = 0;         // [32 tokens][padded group]
  int words = 0;
};

__host__ __device__ inline StageLayout stage_layout(int head_dim, int group, int group_size, int key_bits,
                                                    int value_bits) {
  StageLayout l;
  const int gp = padded_group(group);
  l.key_row = head_dim + kKeyPad;
  l.qs = key_bits * l.key_row;
  l.value_codes = l.qs + head_dim * gp;
  l.value_affine = l.value_codes + kTokens * head_dim * value_bits / 32;
  l.probs = l.value_affine + kTokens * (head_dim / group_size) * 2;
  l.words = l.probs + kTokens * gp;
  return l;
}

// Dynamic shared memory of a block: the scaled queries [group][head_dim], then a staging area per warp; the
// warps' partial states reuse it at the end.
size_t shared_bytes(int head_dim, int group, int group_size, int key_bits, int value_bits) {
  const StageLayout l = stage_layout(head_dim, group, group_size, key_bits, value_bits);
  const int staging = group * head_dim + kWarps * l.words;
  const int merge = 2 * kWarps * group + kWarps * group * head_dim;
  return sizeof(float) * static_cast<size_t>(std::max(staging, merge));
}

// A small unsigned code as a float, exactly: 2^23 + c has c in its low mantissa bits.
__device__ __forceinline__ float code_to_float(uint32_t code) {
  return __uint_as_float(code | 0x4B000000u) - 8388608.0f;
}

template <class T, int D, int G>
__global__ void __launch_bounds__(kThreads, min_blocks_per_sm<G>()) kivi_decode_partial_kernel(KiviDecodeParams p) {
  constexpr int C = D / 32;  // value channels per lane
  constexpr int GP = padded_group(G);
  extern __shared__ __align__(16) float smem[];
  const int h = blockIdx.x;
  const int split = blockIdx.y;
  const int warp = threadIdx.x / 32;
  const int lane = threadIdx.x % 32;
  const int H = p.num_kv_heads;
  const int gs = p.group_size;
  const int key_bits = p.key_bits, value_bits = p.value_bits;
  const int64_t total = p.total_tokens;
  const int64_t key_quant = p.key_quant_tokens, value_quant = p.value_quant_tokens;
  const StageLayout layout = stage_layout(D, G, gs, key_bits, value_bits);

  float* sq = smem;  // [G][D]
  const T* q = static_cast<const T*>(p.q);
  for (int i = threadIdx.x; i < G * D; i += kThreads) {
    sq[i] = to_float(q[(static_cast<int64_t>(h) * G + i / D) * D + i % D]) * p.scale * kLog2e;
  }
  __syncthreads();

  float* stage = smem + G * D + warp * layout.words;
  uint32_t* key_codes_s = reinterpret_cast<uint32_t*>(stage);
  float* qs_s = stage + layout.qs;
  uint32_t* value_codes_s = reinterpret_cast<uint32_t*>(stage + layout.value_codes);
  float* value_affine_s = stage + layout.value_affine;
  float* probs_s = stage + layout.probs;

  const int64_t blocks = (total + kTokens - 1) / kTokens;
  const int64_t per_split = (blocks + p.num_splits - 1) / p.num_splits;
  const int64_t first_block = split * per_split;
  const int64_t last_block = blocks < first_block + per_split ? blocks : first_block + per_split;

  const T* key_scales = static_cast<const T*>(p.key_scales);
  const T* key_mins = static_cast<const T*>(p.key_mins);
  const T* value_scales = static_cast<const T*>(p.value_scales);
  const T* value_mins = static_cast<const T*>(p.value_mins);
  const T* full_keys = static_cast<const T*>(p.full_keys);
  const T* full_values = static_cast<const T*>(p.full_values);
  const int64_t key_tail = total - key_quant, value_tail = total - value_quant;

  const uint32_t key_mask = (1u << key_bits) - 1u, value_mask = (1u << value_bits) - 1u;
  const int key_group_bytes = gs * key_bits / 8;
  const int key_word = (lane * key_bits) >> 5, key_shift = (lane * key_bits) & 31;
  const int key_pairs = key_bits / 2;  // 8-byte words per channel: 32 tokens * key_bits bits
  const int c0 = lane * C;
  const int value_groups = D / gs;
  const int value_token_bytes = D * value_bits / 8;
  const int value_token_words = value_token_bytes / 4;
  const int value_pairs = value_token_bytes / 8;
  const int value_word = (c0 * value_bits) >> 5, value_shift = (c0 * value_bits) & 31;
  const int my_value_group = c0 / gs;

  float m[G], l[G], acc[G][C];
#pragma unroll
  for (int g = 0; g < G; ++g) {
    m[g] = -INFINITY;
    l[g] = 0.0f;
#pragma unroll
    for (int k = 0; k < C; ++k) acc[g][k] = 0.0f;
  }

  for (int64_t block = first_block + warp; block < last_block; block += kWarps) {
    const int64_t t0 = block * kTokens;
    const int count = total - t0 < kTokens ? static_cast<int>(total - t0) : kTokens;
    const bool keys_quantized = t0 < key_quant;  // the whole step: key_quant is a multiple of group_size
    const int value_codes_held =
        value_quant <= t0 ? 0 : (value_quant - t0 < count ? static_cast<int>(value_quant - t0) : count);
    __syncwarp();  // the previous step's reads of the staging area are done

    float bias[G];
#pragma unroll
    for (int g = 0; g < G; ++g) bias[g] = 0.0f;
    if (keys_quantized) {
      const int64_t key_group = t0 / gs;
      const int64_t entry = (key_group * H + h) * D;
      const uint8_t* codes = p.key_codes + entry * key_group_bytes + (t0 % gs) * key_bits / 8;
      for (int idx = lane; idx < D * key_pairs; idx += 32) {
        const int j = idx % D, pair = idx / D;
        const uint2 w = *reinterpret_cast<const uint2*>(codes + static_cast<int64_t>(j) * key_group_bytes + pair * 8);
        key_codes_s[(2 * pair) * layout.key_row + j] = w.x;
        key_codes_s[(2 * pair + 1) * layout.key_row + j] = w.y;
      }
      for (int j = lane; j < D; j += 32) {
        const float s = to_float(key_scales[entry + j]), minimum = to_float(key_mins[entry + j]);
#pragma unroll
        for (int g = 0; g < G; ++g) {
          const float qv = sq[g * D + j];
          qs_s[j * GP + g] = qv * s;
          bias[g] = fmaf(qv, minimum, bias[g]);
        }
      }
#pragma unroll
      for (int g = 0; g < G; ++g) bias[g] = warp_sum(bias[g]);
    }
    for (int idx = lane; idx < value_codes_held * value_pairs; idx += 32) {
      const int i = idx / value_pairs, pair = idx % value_pairs;
      const uint8_t* codes = p.value_codes + ((t0 + i) * H + h) * value_token_bytes;
      const uint2 w = *reinterpret_cast<const uint2*>(codes + pair * 8);
      value_codes_s[i * value_token_words + 2 * pair] = w.x;
      value_codes_s[i * value_token_words + 2 * pair + 1] = w.y;
    }
    for (int idx = lane; idx < value_codes_held * value_groups; idx += 32) {
      const int i = idx / value_groups, group = idx % value_groups;
      const int64_t entry = ((t0 + i) * H + h) * value_groups + group;
      value_affine_s[2 * idx] = to_float(value_scales[entry]);
      value_affine_s[2 * idx + 1] = to_float(value_mins[entry]);
    }
    __syncwarp();

    float s[G];
    if (lane < count) {
      if (keys_quantized) {
#pragma unroll
        for (int g = 0; g < G; ++g) s[g] = bias[g];
        const uint32_t* row = key_codes_s + key_word * layout.key_row;
#pragma unroll 2
        for (int j = 0; j < D; j += 4) {
          const uint4 w = *reinterpret_cast<const uint4*>(row + j);
          const uint32_t words[4] = {w.x, w.y, w.z, w.w};
#pragma unroll
          for (int k = 0; k < 4; ++k) {
            const float code = code_to_float((words[k] >> key_shift) & key_mask);
            const float* qs = qs_s + (j + k) * GP;
#pragma unroll
            for (int g4 = 0; g4 < GP; g4 += 4) {
              const float4 qv = *reinterpret_cast<const float4*>(qs + g4);
              if (g4 + 0 < G) s[g4 + 0] = fmaf(qv.x, code, s[g4 + 0]);
              if (g4 + 1 < G) s[g4 + 1] = fmaf(qv.y, code, s[g4 + 1]);
              if (g4 + 2 < G) s[g4 + 2] = fmaf(qv.z, code, s[g4 + 2]);
              if (g4 + 3 < G) s[g4 + 3] = fmaf(qv.w, code, s[g4 + 3]);
            }
          }
        }
      } else {
        const T* row = full_keys + (static_cast<int64_t>(h) * key_tail + (t0 + lane - key_quant)) * D;
#pragma unroll
        for (int g = 0; g < G; ++g) s[g] = 0.0f;
        for (int j = 0; j < D; ++j) {
          const float k = to_float(row[j]);
#pragma unroll
          for (int g = 0; g < G; ++g) s[g] = fmaf(sq[g * D + j], k, s[g]);
        }
      }
    } else {
#pragma unroll
      for (int g = 0; g < G; ++g) s[g] = -INFINITY;
    }

#pragma unroll
    for (int g = 0; g < G; ++g) {
      const float block_max = warp_max(s[g]);
      const float m_new = fmaxf(m[g], block_max);
      const float correction = m_new == -INFINITY ? 1.0f : exp2f(m[g] - m_new);
      const float prob = s[g] == -INFINITY ? 0.0f : exp2f(s[g] - m_new);
      l[g] = l[g] * correction + warp_sum(prob);
#pragma unroll
      for (int k = 0; k < C; ++k) acc[g][k] *= correction;
      m[g] = m_new;
      probs_s[lane * GP + g] = prob;
    }
    __syncwarp();

    for (int i = 0; i < count; ++i) {
      float v[C];
      if (i < value_codes_held) {
        const uint32_t word = value_codes_s[i * value_token_words + value_word] >> value_shift;
        const float2 affine =
            *reinterpret_cast<const float2*>(value_affine_s + 2 * (i * value_groups + my_value_group));
#pragma unroll
        for (int k = 0; k < C; ++k) {
          v[k] = fmaf(code_to_float((word >> (k * value_bits)) & value_mask), affine.x, affine.y);
        }
      } else {
        const T* row = full_values + (static_cast<int64_t>(h) * value_tail + (t0 + i - value_quant)) * D + c0;
#pragma unroll
        for (int k = 0; k < C; ++k) v[k] = to_float(row[k]);
      }
      const float* prob = probs_s + i * GP;
#pragma unroll
      for (int g4 = 0; g4 < GP; g4 += 4) {
        const float4 pv = *reinterpret_cast<const float4*>(prob + g4);
        const float pg[4] = {pv.x, pv.y, pv.z, pv.w};
#pragma unroll
        for (int gg = 0; gg < 4; ++gg) {
          if (g4 + gg < G) {
#pragma unroll
            for (int k = 0; k < C; ++k) acc[g4 + gg][k] = fmaf(pg[gg], v[k], acc[g4 + gg][k]);
          }
        }
      }
    }
  }

  __syncthreads();  // every warp is done with its staging area: the partial states reuse shared memory
  float* shared_max = smem;                  // [kWarps][G]
  float* shared_sum = smem + kWarps * G;     // [kWarps][G]
  float* shared_acc = smem + 2 * kWarps * G;  // [kWarps][G][D]
#pragma unroll
  for (int g = 0; g < G; ++g) {
    if (lane == 0) {
      shared_max[warp * G + g] = m[g];
      shared_sum[warp * G + g] = l[g];
    }
#pragma unroll
    for (int k = 0; k < C; ++k) shared_acc[(warp * G + g) * D + c0 + k] = acc[g][k];
  }
  __syncthreads();
  SplitWorkspace ws(p.workspace, p.num_heads, p.num_splits, D);
  for (int idx = threadIdx.x; idx < G * D; idx += kThreads) {
    const int g = idx / D, d = idx % D;
    float block_max = -INFINITY;
#pragma unroll
    for (int w = 0; w < kWarps; ++w) block_max = fmaxf(block_max, shared_max[w * G + g]);
    float block_sum = 0.0f, block_acc = 0.0f;
    if (block_max != -INFINITY) {
#pragma unroll
      for (int w = 0; w < kWarps; ++w) {
        const float weight = exp2f(shared_max[w * G + g] - block_max);
        block_sum = fmaf(shared_sum[w * G + g], weight, block_sum);
        block_acc = fmaf(shared_acc[(w * G + g) * D + d], weight, block_acc);
      }
    }
    const int64_t row = (static_cast<int64_t>(h) * G + g) * p.num_splits + split;
    ws.acc[row * D + d] = block_acc;
    if (d == 0) {
      ws.max[row] = block_max;
      ws.sum[row] = block_sum;
    }
  }
}

template <class T, int D>
__global__ void kivi_decode_combine_kernel(KiviDecodeParams p) {
  const SplitWorkspace ws(p.workspace, p.num_heads, p.num_splits, D);
  detail::combine_splits(ws, blockIdx.x, p.num_splits, D, static_cast<T*>(p.out));
}

template <class T>
void launch_combine_type(const KiviDecodeParams& p, cudaStream_t stream) {
  if (p.head_dim == 64) {
    kivi_decode_combine_kernel<T, 64><<<static_cast<unsigned>(p.num_heads), 64, 0, stream>>>(p);
  } else {
    kivi_decode_combine_kernel<T, 128><<<static_cast<unsigned>(p.num_heads), 128, 0, stream>>>(p);
  }
}

void launch_combine(const KiviDecodeParams& p, cudaStream_t stream) {
  switch (p.type) {
    case ElementType::kFloat32: launch_combine_type<float>(p, stream); break;
    case ElementType::kBFloat16: launch_combine_type<__nv_bfloat16>(p, stream); break;
    case ElementType::kFloat16: launch_combine_type<__half>(p, stream); break;
  }
}

using PartialKernel = void (*)(KiviDecodeParams);

template <class T, int D>
PartialKernel partial_kernel_for(int group) {
  switch (group) {
    case 1: return kivi_decode_partial_kernel<T, D, 1>;
    case 2: return kivi_decode_partial_kernel<T, D, 2>;
    case 3: return kivi_decode_partial_kernel<T, D, 3>;
    case 4: return kivi_decode_partial_kernel<T, D, 4>;
    case 5: return kivi_decode_partial_kernel<T, D, 5>;
    case 6: return kivi_decode_partial_kernel<T, D, 6>;
    case 7: return kivi_decode_partial_kernel<T, D, 7>;
    case 8: return kivi_decode_partial_kernel<T, D, 8>;
    default: return nullptr;
  }
}

template <class T>
PartialKernel partial_kernel_for_dim(int head_dim, int group) {
  return head_dim == 64 ? partial_kernel_for<T, 64>(group) : partial_kernel_for<T, 128>(group);
}

PartialKernel partial_kernel(const KiviDecodeParams& p) {
  const int group = p.num_heads / p.num_kv_heads;
  switch (p.type) {
    case ElementType::kFloat32: return partial_kernel_for_dim<float>(p.head_dim, group);
    case ElementType::kBFloat16: return partial_kernel_for_dim<__nv_bfloat16>(p.head_dim, group);
    case ElementType::kFloat16: return partial_kernel_for_dim<__half>(p.head_dim, group);
  }
  return nullptr;
}

// The kernel instance for p with its dynamic shared memory allowed (above 48 KiB it has to be asked for).
cudaError_t prepare_partial_kernel(const KiviDecodeParams& p, PartialKernel* kernel, size_t* bytes) {
  *kernel = partial_kernel(p);
  if (*kernel == nullptr) return cudaErrorInvalidValue;
  *bytes = shared_bytes(p.head_dim, p.num_heads / p.num_kv_heads, p.group_size, p.key_bits, p.value_bits);
  if (*bytes > static_cast<size_t>(kMaxStaticSharedBytes)) {
    return cudaFuncSetAttribute(*kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(*bytes));
  }
  return cudaSuccess;
}

bool params_valid(const KiviDecodeParams& p) {
  return p.num_kv_heads > 0 && p.num_heads % p.num_kv_heads == 0 && p.num_splits >= 1 && p.total_tokens > 0 &&
         p.key_quant_tokens % p.group_size == 0 &&
         kivi_decode_supported(p.head_dim, p.group_size, p.key_bits, p.value_bits, p.num_heads / p.num_kv_heads);
}

}  // namespace

bool kivi_decode_supported(int64_t head_dim, int64_t group_size, int64_t key_bits, int64_t value_bits,
                           int64_t group) {
  const auto bits_ok = [](int64_t b) { return b == 2 || b == 4 || b == 8; };
  return (head_dim == 64 || head_dim == 128) && group_size >= kTokens && group_size % kTokens == 0 &&
         head_dim % group_size == 0 && bits_ok(key_bits) && bits_ok(value_bits) && group >= 1 && group <= 8;
}

int64_t kivi_decode_workspace_floats(int64_t num_heads, int64_t head_dim, int64_t num_splits) {
  return SplitWorkspace::floats(num_heads, num_splits, head_dim);
}

int64_t kivi_decode_blocks_per_sm(const KiviDecodeParams& p) {
  KiviDecodeParams shape = p;
  shape.num_splits = 1;
  shape.total_tokens = std::max<int64_t>(p.total_tokens, 1);
  if (!params_valid(shape)) return 0;
  PartialKernel kernel = nullptr;
  size_t bytes = 0;
  if (prepare_partial_kernel(shape, &kernel, &bytes) != cudaSuccess) return 0;
  int blocks = 0;
  if (cudaOccupancyMaxActiveBlocksPerMultiprocessor(&blocks, kernel, kThreads, bytes) != cudaSuccess) return 0;
  return blocks;
}

cudaError_t kivi_decode_attention(const KiviDecodeParams& p, cudaStream_t stream) {
  if (!params_valid(p)) return cudaErrorInvalidValue;
  PartialKernel kernel = nullptr;
  size_t bytes = 0;
  if (const cudaError_t status = prepare_partial_kernel(p, &kernel, &bytes); status != cudaSuccess) return status;
  const dim3 grid(static_cast<unsigned>(p.num_kv_heads), static_cast<unsigned>(p.num_splits));
  kernel<<<grid, kThreads, bytes, stream>>>(p);
  launch_combine(p, stream);
  return cudaGetLastError();
}

}  // namespace loom::kernels::cuda
