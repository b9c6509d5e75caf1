// Standalone check + benchmark of the block-sparse prefill and KIVI quantization CUDA kernels against the
// framework-free CPU references (decode attention kernels: bench/engine_kernels.cpp)
// (src/kernels/accel). Built with nvcc alone on the GPU machine (no libtorch, MPI or HDF5 needed):
//   nvcc -O3 -std=c++17 -arch=sm_90 -Isrc tests/accel/cuda_accel_check.cu src/kernels/cuda/*.cu \
//        src/kernels/accel/*.cpp -o cuda_accel_check && ./cuda_accel_check
// Part 1 checks (fresh random inputs, poisoned outputs, relative error ||out - ref|| / ||ref|| against a float64
// reference: float32 < 1e-5, bf16 < 2e-2 on bf16-rounded inputs; KIVI codes must match bit for bit).
// Part 2 times the kernels on the Llama-3.1-8B attention shape (32 query heads, 8 KV heads, head_dim 128, bf16)
// with CUDA events (median of repeats) and prints a table.
#include "kernels/accel/kivi_quant.h"
#include "kernels/accel/reference_attention.h"
#include "kernels/cuda/accel_kernels.h"

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <vector>

using loom::kernels::cuda::ElementType;

#define CHECK_CUDA(expr)                                                                          \
  do {                                                                                            \
    cudaError_t status_ = (expr);                                                                 \
    if (status_ != cudaSuccess) {                                                                 \
      std::fprintf(stderr, "%s:%d: %s failed: %s\n", __FILE__, __LINE__, #expr, cudaGetErrorString(status_)); \
      std::exit(1);                                                                               \
    }                                                                                             \
  } while (0)

namespace {

int failures = 0;

std::vector<float> random_floats(size_t n, std::mt19937& rng, float scale = 1.0f) {
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

std::vector<__nv_bfloat16> to_bf16(const std::vector<float>& v) {
  std::vector<__nv_bfloat16> out(v.size());
  for (size_t i = 0; i < v.size(); ++i) out[i] = __float2bfloat16(v[i]);
  return out;
}

std::vector<float> round_bf16(const std::vector<float>& v) {
  std::vector<float> out(v.size());
  for (size_t i = 0; i < v.size(); ++i) out[i] = __bfloat162float(__float2bfloat16(v[i]));
  return out;
}

template <class T>
T* to_device(const std::vector<T>& host) {
  T* ptr = nullptr;
  CHECK_CUDA(cudaMalloc(&ptr, std::max<size_t>(host.size(), 1) * sizeof(T)));
  CHECK_CUDA(cudaMemcpy(ptr, host.data(), host.size() * sizeof(T), cudaMemcpyHostToDevice));
  return ptr;
}

template <class T>
std::vector<T> to_host(const T* ptr, size_t n) {
  std::vector<T> host(n);
  CHECK_CUDA(cudaMemcpy(host.data(), ptr, n * sizeof(T), cudaMemcpyDeviceToHost));
  return host;
}

double relative_error(const std::vector<float>& out, const std::vector<float>& ref) {
  double num = 0.0, den = 0.0;
  for (size_t i = 0; i < out.size(); ++i) {
    if (std::isnan(out[i])) return INFINITY;
    num += (static_cast<double>(out[i]) - ref[i]) * (static_cast<double>(out[i]) - ref[i]);
    den += static_cast<double>(ref[i]) * ref[i];
  }
  return std::sqrt(num / std::max(den, 1e-30));
}

void report(const char* name, double error, double bound) {
  const bool ok = error < bound;
  failures += ok ? 0 : 1;
  std::printf("%-52s rel.err %.3e (bound %.0e) %s\n", name, error, bound, ok ? "PASS" : "FAIL");
}

std::vector<float> round_half(const std::vector<float>& v) {
  std::vector<float> out(v.size());
  for (size_t i = 0; i < v.size(); ++i) out[i] = __half2float(__float2half(v[i]));
  return out;
}

std::vector<__half> to_half(const std::vector<float>& v) {
  std::vector<__half> out(v.size());
  for (size_t i = 0; i < v.size(); ++i) out[i] = __float2half(v[i]);
  return out;
}

float as_float(float x) { return x; }
float as_float(__nv_bfloat16 x) { return __bfloat162float(x); }
float as_float(__half x) { return __half2float(x); }

template <class T>
std::vector<float> run_block_sparse(ElementType type, const std::vector<T>& q, const std::vector<T>& k,
                                    const std::vector<T>& v, const std::vector<uint8_t>& mask, int64_t heads,
                                    int64_t kv, int64_t t_q, int64_t total, int64_t dim, int64_t block, float scale,
                                    T poison) {
  T* dq = to_device(q);
  T* dk = to_device(k);
  T* dv = to_device(v);
  uint8_t* dmask = to_device(mask);
  T* dout = to_device(std::vector<T>(heads * t_q * dim, poison));
  loom::kernels::cuda::BlockSparseAttentionParams p;
  p.type = type;
  p.q = dq;
  p.keys = dk;
  p.values = dv;
  p.block_mask = dmask;
  p.out = dout;
  p.num_heads = heads;
  p.num_kv_heads = kv;
  p.t_q = t_q;
  p.q_start = total - t_q;
  p.total_len = total;
  p.key_stride = total;
  p.head_dim = dim;
  p.block_size = block;
  p.scale = scale;
  CHECK_CUDA(loom::kernels::cuda::block_sparse_attention(p, nullptr));
  CHECK_CUDA(cudaDeviceSynchronize());
  std::vector<T> host = to_host(dout, heads * t_q * dim);
  std::vector<float> out(host.size());
  for (size_t i = 0; i < out.size(); ++i) out[i] = as_float(host[i]);
  cudaFree(dq), cudaFree(dk), cudaFree(dv), cudaFree(dout), cudaFree(dmask);
  return out;
}

// Random per-head lengths 1..3000 with spare rows between heads, as PerHeadVarlenCache keeps them. bf16 / fp16 with
// head_dim 64 or 128 and <= 8 query heads per KV head take the GQA kernel, the rest the generic one.
void check_block_sparse(ElementType type, int64_t dim, int64_t block, int64_t total, int64_t t_q, double density,
                        std::mt19937& rng) {
  const int64_t heads = 8, kv = 2;
  const int64_t nb = (total + block - 1) / block;
  std::vector<float> q = random_floats(heads * t_q * dim, rng), k = random_floats(kv * total * dim, rng),
                     v = random_floats(kv * total * dim, rng);
  auto round = [&](std::vector<float>& x) {
    if (type == ElementType::kBFloat16) x = round_bf16(x);
    if (type == ElementType::kFloat16) x = round_half(x);
  };
  round(q), round(k), round(v);
  std::vector<uint8_t> mask(heads * nb * nb, 0);
  std::bernoulli_distribution coin(density);
  for (int64_t h = 0; h < heads; ++h) {
    for (int64_t r = 0; r < nb; ++r) {
      for (int64_t c = 0; c <= r; ++c) mask[(h * nb + r) * nb + c] = (c == 0 || c == r || coin(rng)) ? 1 : 0;
    }
  }
  const float scale = 1.0f / std::sqrt(static_cast<float>(dim));
  std::vector<float> ref(heads * t_q * dim);
  for (int64_t h = 0; h < heads; ++h) {
    const int64_t kvh = h / (heads / kv);
    loom::kernels::accel::BlockSparseReferenceParams p;
    p.q = q.data() + h * t_q * dim;
    p.keys = k.data() + kvh * total * dim;
    p.values = v.data() + kvh * total * dim;
    p.block_mask = mask.data() + h * nb * nb;
    p.out = ref.data() + h * t_q * dim;
    p.t_q = t_q;
    p.q_start = total - t_q;
    p.total_len = total;
    p.head_dim = dim;
    p.block_size = block;
    p.scale = scale;
    loom::kernels::accel::block_sparse_attention_reference(p);
  }
  std::vector<float> out;
  const char* name = "fp32";
  if (type == ElementType::kBFloat16) {
    name = "bf16";
    out = run_block_sparse(type, to_bf16(q), to_bf16(k), to_bf16(v), mask, heads, kv, t_q, total, dim, block, scale,
                           __float2bfloat16(NAN));
  } else if (type == ElementType::kFloat16) {
    name = "fp16";
    out = run_block_sparse(type, to_half(q), to_half(k), to_half(v), mask, heads, kv, t_q, total, dim, block, scale,
                           __float2half(NAN));
  } else {
    out = run_block_sparse(type, q, k, v, mask, heads, kv, t_q, total, dim, block, scale, NAN);
  }
  double max_abs = 0.0;
  for (size_t i = 0; i < out.size(); ++i) max_abs = std::max(max_abs, std::fabs(static_cast<double>(out[i]) - ref[i]));
  if (std::any_of(out.begin(), out.end(), [](float x) { return std::isnan(x); })) max_abs = INFINITY;
  const bool fp32 = type == ElementType::kFloat32;
  char label[160];
  std::snprintf(label, sizeof(label), "block-sparse prefill (%s, d %lld, block %lld, chunk %lld/%lld)", name,
                static_cast<long long>(dim), static_cast<long long>(block), static_cast<long long>(t_q),
                static_cast<long long>(total));
  report(label, relative_error(out, ref), fp32 ? 1e-5 : 2e-2);
  const bool abs_ok = max_abs < (fp32 ? 1e-4 : 5e-2);
  std::printf("%-52s max |out - ref| %.2e %s\n", "  (same case, every element)", max_abs, abs_ok ? "PASS" : "FAIL");
  failures += abs_ok ? 0 : 1;
}

void check_kivi(int bits, std::mt19937& rng) {
  const int64_t groups = 4096, group = 32;
  std::vector<float> x = random_floats(groups * group, rng, 2.0f);
  const int64_t gb = loom::kernels::accel::kivi_group_bytes(group, bits);
  std::vector<uint8_t> codes(groups * gb);
  std::vector<float> scales(groups), mins(groups), deq(groups * group);
  using loom::kernels::KiviDequantizeParams;
  using loom::kernels::KiviQuantizeParams;
  loom::kernels::accel::kivi_quantize_groups(KiviQuantizeParams{x.data(), codes.data(), scales.data(), mins.data(),
                                                                groups, group, bits});
  loom::kernels::accel::kivi_dequantize_groups(KiviDequantizeParams{codes.data(), scales.data(), mins.data(),
                                                                    deq.data(), groups, group, bits});
  float* dx = to_device(x);
  uint8_t* dcodes = to_device(std::vector<uint8_t>(codes.size(), 0xAB));
  float* dscales = to_device(std::vector<float>(groups, NAN));
  float* dmins = to_device(std::vector<float>(groups, NAN));
  float* ddeq = to_device(std::vector<float>(deq.size(), NAN));
  CHECK_CUDA(loom::kernels::cuda::kivi_quantize_groups({dx, dcodes, dscales, dmins, groups, group, bits}, nullptr));
  CHECK_CUDA(loom::kernels::cuda::kivi_dequantize_groups({dcodes, dscales, dmins, ddeq, groups, group, bits}, nullptr));
  CHECK_CUDA(cudaDeviceSynchronize());
  const bool same_codes = to_host(dcodes, codes.size()) == codes;
  const bool same_scales = to_host(dscales, groups) == scales && to_host(dmins, groups) == mins;
  std::vector<float> gpu_deq = to_host(ddeq, deq.size());
  std::printf("%-52s codes %s, scales %s, dequant rel.err %.1e %s\n", bits == 2 ? "KIVI 2-bit quantize/dequantize" : "KIVI 4-bit quantize/dequantize",
              same_codes ? "identical" : "DIFFER", same_scales ? "identical" : "DIFFER", relative_error(gpu_deq, deq),
              same_codes && same_scales && relative_error(gpu_deq, deq) == 0.0 ? "PASS" : "FAIL");
  failures += (same_codes && same_scales && relative_error(gpu_deq, deq) == 0.0) ? 0 : 1;
  cudaFree(dx), cudaFree(dcodes), cudaFree(dscales), cudaFree(dmins), cudaFree(ddeq);
}

template <class F>
double median_ms(F&& launch, int repeats) {
  cudaEvent_t start, stop;
  CHECK_CUDA(cudaEventCreate(&start));
  CHECK_CUDA(cudaEventCreate(&stop));
  for (int i = 0; i < 3; ++i) launch();
  CHECK_CUDA(cudaDeviceSynchronize());
  std::vector<float> times;
  for (int i = 0; i < repeats; ++i) {
    CHECK_CUDA(cudaEventRecord(start));
    launch();
    CHECK_CUDA(cudaEventRecord(stop));
    CHECK_CUDA(cudaEventSynchronize(stop));
    float ms = 0;
    CHECK_CUDA(cudaEventElapsedTime(&ms, start, stop));
    times.push_back(ms);
  }
  std::sort(times.begin(), times.end());
  cudaEventDestroy(start);
  cudaEventDestroy(stop);
  return times[times.size() / 2];
}

void bench_block_sparse(int64_t total, double density, std::mt19937& rng) {
  const int64_t heads = 32, kv = 8, dim = 128, block = 128;
  const int64_t nb = (total + block - 1) / block;
  std::vector<uint8_t> mask(heads * nb * nb, 0);
  std::bernoulli_distribution coin(density);
  int64_t active = 0, causal = 0;
  for (int64_t h = 0; h < heads; ++h) {
    for (int64_t r = 0; r < nb; ++r) {
      for (int64_t c = 0; c <= r; ++c) {
        const bool on = density >= 1.0 || c == 0 || c == r || coin(rng);
        mask[(h * nb + r) * nb + c] = on;
        active += on;
        ++causal;
      }
    }
  }
  __nv_bfloat16 *dq, *dk, *dv, *dout;
  CHECK_CUDA(cudaMalloc(&dq, heads * total * dim * 2));
  CHECK_CUDA(cudaMalloc(&dk, kv * total * dim * 2));
  CHECK_CUDA(cudaMalloc(&dv, kv * total * dim * 2));
  CHECK_CUDA(cudaMalloc(&dout, heads * total * dim * 2));
  std::vector<__nv_bfloat16> fill = to_bf16(random_floats(1 << 20, rng));
  for (auto* ptr : {dq, dk, dv}) {
    const int64_t size = ptr == dq ? heads * total * dim : kv * total * dim;
    for (int64_t off = 0; off < size; off += fill.size()) {
      CHECK_CUDA(cudaMemcpy(ptr + off, fill.data(), std::min<int64_t>(fill.size(), size - off) * 2, cudaMemcpyHostToDevice));
    }
  }
  uint8_t* dmask = to_device(mask);
  loom::kernels::cuda::BlockSparseAttentionParams p;
  p.type = ElementType::kBFloat16;
  p.q = dq;
  p.keys = dk;
  p.values = dv;
  p.block_mask = dmask;
  p.out = dout;
  p.num_heads = heads;
  p.num_kv_heads = kv;
  p.t_q = total;
  p.q_start = 0;
  p.total_len = total;
  p.key_stride = total;
  p.head_dim = dim;
  p.block_size = block;
  p.scale = 0.088f;
  const double ms = median_ms([&] { CHECK_CUDA(loom::kernels::cuda::block_sparse_attention(p, nullptr)); }, 3);
  const double flops = 4.0 * dim * static_cast<double>(active) * block * block;  // QK^T and PV per block pair
  std::printf("| block-sparse prefill (1 layer) | %6lldK | density %.3f | %10.2f ms | ~%6.1f TFLOP/s |\n",
              static_cast<long long>(total / 1024), static_cast<double>(active) / causal, ms, flops / (ms * 1e-3) / 1e12);
  cudaFree(dq), cudaFree(dk), cudaFree(dv), cudaFree(dout), cudaFree(dmask);
}

void bench_kivi(int64_t context, std::mt19937& rng) {
  const int64_t kv = 8, dim = 128, group = 32;
  const int64_t groups = kv * context * dim / group;
  float* dx;
  CHECK_CUDA(cudaMalloc(&dx, groups * group * 4));
  std::vector<float> fill = random_floats(1 << 20, rng);
  for (int64_t off = 0; off < groups * group; off += fill.size()) {
    CHECK_CUDA(cudaMemcpy(dx + off, fill.data(), std::min<int64_t>(fill.size(), groups * group - off) * 4, cudaMemcpyHostToDevice));
  }
  uint8_t* codes;
  float *scales, *mins, *out;
  CHECK_CUDA(cudaMalloc(&codes, groups * group / 4));
  CHECK_CUDA(cudaMalloc(&scales, groups * 4));
  CHECK_CUDA(cudaMalloc(&mins, groups * 4));
  CHECK_CUDA(cudaMalloc(&out, groups * group * 4));
  const loom::kernels::KiviQuantizeParams quantize{dx, codes, scales, mins, groups, group, 2};
  const loom::kernels::KiviDequantizeParams dequantize{codes, scales, mins, out, groups, group, 2};
  using loom::kernels::cuda::kivi_dequantize_groups;
  using loom::kernels::cuda::kivi_quantize_groups;
  const double q_ms = median_ms([&] { CHECK_CUDA(kivi_quantize_groups(quantize, nullptr)); }, 20);
  const double d_ms = median_ms([&] { CHECK_CUDA(kivi_dequantize_groups(dequantize, nullptr)); }, 20);
  std::printf("| KIVI 2-bit, one layer's keys (%lldK tokens) | quantize %.3f ms | dequantize %.3f ms | packed %.1f MiB vs bf16 %.1f MiB |\n",
              static_cast<long long>(context / 1024), q_ms, d_ms, (groups * group / 4 + groups * 4.0) / (1 << 20),
              groups * group * 2.0 / (1 << 20));
  cudaFree(dx), cudaFree(codes), cudaFree(scales), cudaFree(mins), cudaFree(out);
}

}  // namespace

int main(int argc, char** argv) {
  cudaDeviceProp prop;
  CHECK_CUDA(cudaGetDeviceProperties(&prop, 0));
  std::printf("device: %s, %d SMs, %.0f MiB\n", prop.name, prop.multiProcessorCount, prop.totalGlobalMem / 1048576.0);
  std::mt19937 rng(20261125);
  check_block_sparse(ElementType::kFloat32, 128, 64, 1000, 424, 0.3, rng);     // CUDA-core kernel
  check_block_sparse(ElementType::kBFloat16, 128, 32, 1000, 424, 0.3, rng);    // CUDA-core kernel (block 32)
  check_block_sparse(ElementType::kBFloat16, 128, 64, 1000, 424, 0.3, rng);    // tensor cores from here on
  check_block_sparse(ElementType::kBFloat16, 128, 128, 1300, 517, 0.3, rng);   // chunk not tile-aligned
  check_block_sparse(ElementType::kBFloat16, 128, 128, 2100, 2100, 0.5, rng);  // whole prompt, partial last tile
  check_block_sparse(ElementType::kBFloat16, 64, 64, 777, 300, 0.4, rng);
  check_block_sparse(ElementType::kFloat16, 128, 128, 1300, 517, 0.3, rng);
  check_block_sparse(ElementType::kFloat16, 64, 128, 1000, 1000, 1.0, rng);
  check_kivi(2, rng);
  check_kivi(4, rng);
  std::printf("checks: %s (%d failures)\n\n", failures == 0 ? "ALL PASS" : "FAILED", failures);
  const bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
  if (quick) return failures == 0 ? 0 : 1;
  bench_block_sparse(8192, 1.0, rng);
  bench_block_sparse(32768, 1.0, rng);
  bench_block_sparse(32768, 0.1, rng);
  bench_block_sparse(32768, 0.3, rng);
  bench_block_sparse(131072, 0.1, rng);
  bench_block_sparse(131072, 0.3, rng);
  std::printf("\n");
  bench_kivi(32768, rng);
  bench_kivi(131072, rng);
  return failures == 0 ? 0 : 1;
}
