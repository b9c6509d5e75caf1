// engine_kernels: correctness and speed of the GPU engine's attention, layer and MoE kernels, with the device's two
// ceilings measured in the same run (CUDA build; one GPU).
//
//   engine_kernels [--quick] [--only moe] [--json FILE]
//
//  1. ceilings: a bf16 8192^3 matrix product (TFLOP/s) and a 4 GiB device-to-device copy (TB/s, bytes read plus
//     written), each the median of repeated runs;
//  2. paged decode (kernels/paged_attention.h) against the fp32 reference on shuffled pages, random per-row lengths
//     (1 token, page edges, thousands), padding entries, groups 1..16, head_dim 64/128/256, bf16/fp16/fp32; the
//     append kernel against the reference append;
//  3. paged decode speed for Llama-3.1-8B's attention shape (32 query / 8 KV heads, head_dim 128, bf16): batch 1 at
//     32K and 128K, batch 8 at 32K, batch 32 at 8K, as bytes read per second against the measured copy bandwidth,
//     and libtorch's dense SDPA (flash) decode on a contiguous cache of the same length;
//  4. KIVI decode straight from the packed codes (rank/accel/kivi_kv_cache.h on CUDA) against attention over the
//     dequantized cache, after prefill and after decode steps that quantize more, 2 and 4 bits; its speed at 32K
//     and 128K against the paged full cache of the same length;
//  5. prefill attention (kernels/attention.h) cudnn / flash / sdpa against the reference on chunk shapes (prefix 0
//     and > 0, GQA, unpadded chunk), then one layer's attention for a whole prompt of 8K / 32K / 128K tokens in
//     4096-token chunks and in one chunk, per backend: seconds and TFLOP/s (causal FLOPs 2*H*d*L^2), with cuDNN's
//     first call (execution-plan build) timed apart.
//  6. the dense layer's fused elementwise kernels (kernels/cuda/layer_kernels.h: rms_norm on contiguous and strided
//     rows, add_rms_norm, silu_mul, rope on prefill and decode layouts) against libtorch's ops in bf16/fp16/fp32, and
//     their speed against those ops at an 8K-token chunk of Llama-3.1-8B's shape.
//  7. the mixture-of-experts block (rank/model/sparse_moe.h) at Qwen3-30B-A3B's shape (hidden 2048, 128 experts,
//     moe_intermediate 768, top 8 renormalised, random bf16 weights): the grouped-GEMM path against the per-expert
//     path and an fp32 reference at 1, 8, 64 and 4096 rows (max |delta|, ms per call of each), then the grouped path
//     captured in a CUDA graph at 1 and 64 rows, replayed on new inputs against the eager call (bit-identical) and
//     timed against it.
//
//   --only moe runs section 7 alone.
// Every check prints "ok" or "FAIL" with the error; the exit status is 1 when any check failed.
#include "kernels/attention.h"
#include "kernels/cuda/torch_accel_adapter.h"
#include "kernels/layers.h"
#include "kernels/paged_attention.h"
#include "kernels/rope.h"
#include "rank/accel/kivi_kv_cache.h"
#include "rank/model/sparse_moe.h"

#include <ATen/ATen.h>
#include <ATen/cuda/CUDAContext.h>
#include <ATen/cuda/CUDAEvent.h>
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <functional>
#include <random>
#include <string>
#include <vector>

using namespace loom;

namespace {

bool g_failed = false;
std::ofstream g_json;

void emit(const nlohmann::json& line) {
  std::printf("%s\n", line.dump().c_str());
  std::fflush(stdout);
  if (g_json) g_json << line.dump() << '\n' << std::flush;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Seconds per call of fn (median of `repeats` after `warmup`), timed with CUDA events.
double time_cuda(const std::function<void()>& fn, int warmup = 2, int repeats = 7) {
  for (int i = 0; i < warmup; ++i) fn();
  std::vector<double> times;
  for (int i = 0; i < repeats; ++i) {
    cudaEvent_t start, stop;
    cudaEventCreate(&start);
    cudaEventCreate(&stop);
    cudaEventRecord(start, at::cuda::getCurrentCUDAStream());
    fn();
    cudaEventRecord(stop, at::cuda::getCurrentCUDAStream());
    cudaEventSynchronize(stop);
    float ms = 0;
    cudaEventElapsedTime(&ms, start, stop);
    cudaEventDestroy(start);
    cudaEventDestroy(stop);
    times.push_back(ms / 1000.0);
  }
  return median(times);
}

double rel_error(const at::Tensor& got, const at::Tensor& expected) {
  at::Tensor g = got.to(at::kCPU, at::kDouble), e = expected.to(at::kCPU, at::kDouble);
  const double denominator = e.norm().item<double>();
  const double error = (g - e).norm().item<double>() / std::max(denominator, 1e-30);
  return std::isfinite(error) ? error : 1e30;
}

void check(const std::string& name, double error, double tolerance, nlohmann::json extra = {}) {
  const bool ok = error <= tolerance;
  if (!ok) g_failed = true;
  nlohmann::json line = {{"check", name}, {"rel_error", error}, {"tolerance", tolerance}, {"ok", ok}};
  for (auto& [k, v] : extra.items()) line[k] = v;
  emit(line);
}

struct PagedSetup {
  kernels::PagedLayer layer;
  at::Tensor slot_of;
  std::vector<int64_t> lengths;  // per row
};

// A pool with shuffled pages; rows of `lengths` tokens for slots 0..batch-1 (entry b -> slot b, except entries
// listed in padding, which get slot -1).
PagedSetup make_paged(at::ScalarType dtype, int64_t batch, int64_t kv_heads, int64_t dim, int64_t page_size,
                      const std::vector<int64_t>& lengths, const std::vector<int64_t>& padding, uint64_t seed,
                      int64_t spare_tokens) {
  std::mt19937_64 rng(seed);
  const int64_t rows = batch * kv_heads;
  int64_t max_pages = 1, total_pages = 0;
  for (int64_t n : lengths) {
    const int64_t pages = (n + spare_tokens + page_size - 1) / page_size;
    max_pages = std::max(max_pages, pages);
    total_pages += pages;
  }
  std::vector<int32_t> order(static_cast<size_t>(total_pages));
  for (int64_t i = 0; i < total_pages; ++i) order[static_cast<size_t>(i)] = static_cast<int32_t>(i);
  std::shuffle(order.begin(), order.end(), rng);
  at::Tensor table = at::zeros({rows, max_pages}, at::kInt);
  at::Tensor length_tensor = at::zeros({rows}, at::kInt);
  size_t next = 0;
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t n = lengths[static_cast<size_t>(r)];
    length_tensor[r] = static_cast<int32_t>(n);
    for (int64_t p = 0; p < (n + spare_tokens + page_size - 1) / page_size; ++p) table[r][p] = order[next++];
  }
  const at::TensorOptions opts = at::TensorOptions().dtype(dtype).device(at::kCUDA);
  PagedSetup s;
  s.layer.key_pool = at::randn({total_pages, page_size, dim}, opts);
  s.layer.value_pool = at::randn({total_pages, page_size, dim}, opts);
  s.layer.page_table = table.to(at::kCUDA);
  s.layer.lengths = length_tensor.to(at::kCUDA);
  s.layer.num_kv_heads = kv_heads;
  at::Tensor slots = at::arange(batch, at::kInt);
  for (int64_t b : padding) slots[b] = -1;
  s.slot_of = slots.to(at::kCUDA);
  s.lengths = lengths;
  return s;
}

void paged_checks(bool quick) {
  struct Case {
    at::ScalarType dtype;
    int64_t batch, heads, kv_heads, dim, page_size;
    std::vector<int64_t> lengths_per_row;  // cycled over rows
    std::vector<int64_t> padding;
    double tolerance;
  };
  std::vector<Case> cases = {
      {at::kBFloat16, 1, 32, 8, 128, 64, {32768}, {}, 2e-2},
      {at::kBFloat16, 3, 32, 8, 128, 64, {1, 63, 64, 65, 4097, 200, 7, 128}, {1}, 2e-2},
      {at::kBFloat16, 4, 28, 4, 128, 64, {1000, 1, 64, 3333}, {}, 2e-2},      // group 7 (Qwen2)
      {at::kBFloat16, 2, 64, 4, 128, 64, {500, 77}, {}, 2e-2},                // group 16: two blocks per row
      {at::kHalf, 2, 8, 8, 64, 16, {17, 1, 300, 16}, {}, 5e-3},           // group 1, head_dim 64, page 16
      {at::kBFloat16, 2, 16, 8, 256, 32, {95, 96, 97, 1}, {}, 2e-2},         // head_dim 256
      {at::kFloat, 2, 32, 8, 128, 64, {129, 2, 999, 64}, {0}, 1e-4},
      {at::kFloat, 1, 4, 2, 64, 8, {9, 1}, {}, 1e-4},
  };
  if (quick) cases.resize(3);
  uint64_t seed = 1;
  for (const Case& c : cases) {
    std::vector<int64_t> lengths;
    for (int64_t r = 0; r < c.batch * c.kv_heads; ++r) {
      lengths.push_back(c.lengths_per_row[static_cast<size_t>(r) % c.lengths_per_row.size()]);
    }
    PagedSetup s = make_paged(c.dtype, c.batch, c.kv_heads, c.dim, c.page_size, lengths, c.padding, seed++, 1);
    const double scale = 1.0 / std::sqrt(static_cast<double>(c.dim));
    const at::TensorOptions opts = at::TensorOptions().dtype(c.dtype).device(at::kCUDA);
    // Append one token, then attend over lengths + 1 tokens.
    at::Tensor keys = at::randn({c.batch, c.kv_heads, c.dim}, opts);
    at::Tensor values = at::randn({c.batch, c.kv_heads, c.dim}, opts);
    kernels::PagedLayer reference = s.layer;
    reference.key_pool = s.layer.key_pool.clone();
    reference.value_pool = s.layer.value_pool.clone();
    reference.lengths = s.layer.lengths.clone();
    kernels::paged_append(s.layer, keys, values, s.slot_of);
    kernels::paged_append_reference(reference, keys, values, s.slot_of);
    const double append_error = rel_error(s.layer.key_pool, reference.key_pool) +
                                rel_error(s.layer.value_pool, reference.value_pool) +
                                (at::equal(s.layer.lengths.cpu(), reference.lengths.cpu()) ? 0.0 : 1.0);
    const std::string shape = fmt::format("{} b{} h{}/{} d{} page{}", c10::toString(c.dtype), c.batch, c.heads,
                                          c.kv_heads, c.dim, c.page_size);
    check("paged_append " + shape, append_error, 0.0);
    at::Tensor q = at::randn({c.batch, c.heads, c.dim}, opts);
    at::Tensor expected = kernels::paged_decode_attention_reference(reference, q, s.slot_of, scale);
    const int64_t chosen = kernels::decode_splits(c.batch, c.kv_heads, c.heads / c.kv_heads, c.dim, c.dtype);
    for (int64_t splits : {int64_t{1}, int64_t{7}, chosen}) {
      at::Tensor got = kernels::paged_decode_attention(s.layer, q, s.slot_of, scale, splits);
      check(fmt::format("paged_decode {} splits{}", shape, splits), rel_error(got, expected), c.tolerance);
    }
  }
}

void paged_speed(double copy_tb_s) {
  struct Case {
    int64_t batch, length;
  };
  const int64_t heads = 32, kv_heads = 8, dim = 128, page_size = 64;
  for (const Case& c : {Case{1, 32768}, Case{1, 131072}, Case{8, 32768}, Case{32, 8192}}) {
    std::vector<int64_t> lengths(static_cast<size_t>(c.batch * kv_heads), c.length);
    PagedSetup s = make_paged(at::kBFloat16, c.batch, kv_heads, dim, page_size, lengths, {}, 7, 0);
    const at::TensorOptions opts = at::TensorOptions().dtype(at::kBFloat16).device(at::kCUDA);
    at::Tensor q = at::randn({c.batch, heads, dim}, opts);
    const int64_t splits = kernels::decode_splits(c.batch, kv_heads, heads / kv_heads, dim, at::kBFloat16);
    const double scale = 1.0 / std::sqrt(128.0);
    const double seconds =
        time_cuda([&] { kernels::paged_decode_attention(s.layer, q, s.slot_of, scale, splits); }, 3, 15);
    const double bytes = 2.0 * c.batch * kv_heads * c.length * dim * 2;
    // Dense baseline: libtorch SDPA (flash) over a contiguous cache of the same length, one sequence at a time.
    at::Tensor dense_k = at::randn({1, kv_heads, c.length, dim}, opts);
    at::Tensor dense_v = at::randn({1, kv_heads, c.length, dim}, opts);
    at::Tensor dense_q = at::randn({1, heads, 1, dim}, opts);
    const double sdpa = time_cuda([&] {
      for (int64_t b = 0; b < c.batch; ++b) {
        at::scaled_dot_product_attention(dense_q, dense_k, dense_v, {}, 0.0, false, scale, /*enable_gqa=*/true);
      }
    }, 3, 15);
    emit({{"bench", "paged_decode"}, {"batch", c.batch}, {"length", c.length}, {"splits", splits},
          {"ms", seconds * 1e3}, {"tb_s", bytes / seconds / 1e12}, {"of_copy_bandwidth", bytes / seconds / 1e12 / copy_tb_s},
          {"sdpa_dense_ms", sdpa * 1e3}, {"sdpa_tb_s", bytes / sdpa / 1e12}});
  }
}

void kivi_checks_and_speed(bool quick) {
  const at::TensorOptions opts = at::TensorOptions().dtype(at::kBFloat16).device(at::kCUDA);
  struct Case {
    int64_t heads, kv_heads, dim, prompt, steps, group, residual;
    int bits;
  };
  // Shapes of the kernel (group sizes 32 / 64 / 128, 2 / 4 / 8 bits, GQA groups 1-8, head_dim 64 / 128, value
  // codes ending inside a warp's 32 tokens) and one it leaves to the dequantizing path (group 16).
  for (const Case& c : {Case{32, 8, 128, 1000, 150, 32, 128, 2}, Case{32, 8, 128, 4097, 3, 32, 128, 4},
                        Case{16, 4, 64, 700, 40, 32, 64, 2}, Case{8, 8, 128, 100, 5, 32, 128, 2},
                        Case{56, 7, 128, 2100, 77, 64, 128, 8}, Case{64, 8, 128, 1500, 33, 128, 256, 4},
                        Case{48, 8, 64, 900, 20, 64, 64, 2}, Case{32, 8, 128, 600, 9, 16, 32, 2}}) {
    accel::KiviSettings settings;
    settings.k_bits = c.bits;
    settings.v_bits = c.bits;
    settings.group_size = c.group;
    settings.residual_length = c.residual;
    at::Tensor keys = at::randn({c.kv_heads, c.prompt + c.steps, c.dim}, opts);
    at::Tensor values = at::randn({c.kv_heads, c.prompt + c.steps, c.dim}, opts);
    accel::KiviCache cache(keys.narrow(1, 0, c.prompt), values.narrow(1, 0, c.prompt), c.prompt, settings);
    for (int64_t s = 0; s < c.steps; ++s) cache.append(keys.narrow(1, c.prompt + s, 1), values.narrow(1, c.prompt + s, 1));
    at::Tensor q = at::randn({c.heads, 1, c.dim}, opts);
    const double scale = 1.0 / std::sqrt(static_cast<double>(c.dim));
    at::Tensor expected = kernels::causal_tail_attention_reference(q, cache.dequantized_keys(),
                                                                   cache.dequantized_values(), scale);
    check(fmt::format("kivi_decode {} bits h{}/{} d{} g{} T{}", c.bits, c.heads, c.kv_heads, c.dim, c.group,
                      c.prompt + c.steps),
          rel_error(cache.attend(q, scale), expected), 2e-2);
  }
  std::vector<int64_t> lengths = {32768, 131072};
  if (quick) lengths.resize(1);
  for (int64_t length : lengths) {
    for (int bits : {2, 4}) {
      accel::KiviSettings settings;
      settings.k_bits = bits;
      settings.v_bits = bits;
      at::Tensor keys = at::randn({8, length, 128}, opts), values = at::randn({8, length, 128}, opts);
      accel::KiviCache cache(keys, values, length, settings);
      keys = at::Tensor();
      values = at::Tensor();
      at::Tensor q = at::randn({32, 1, 128}, opts);
      const double ms = 1e3 * time_cuda([&] { cache.attend(q, 0.088); }, 3, 15);
      emit({{"bench", "kivi_decode"}, {"bits", bits}, {"length", length}, {"ms", ms}, {"cache_bytes", cache.bytes()},
            {"full_cache_bytes", 2 * 8 * length * 128 * 2}});
    }
  }
}

void prefill_checks() {
  const at::TensorOptions opts = at::TensorOptions().dtype(at::kBFloat16).device(at::kCUDA);
  struct Case {
    int64_t heads, kv_heads, t, total;
  };
  for (const Case& c : {Case{32, 8, 4096, 4096}, Case{32, 8, 4096, 12288}, Case{8, 2, 300, 300},
                        Case{8, 2, 300, 4396}, Case{28, 4, 1000, 5096}, Case{4, 4, 1, 777}}) {
    at::Tensor q = at::randn({c.heads, c.t, 128}, opts);
    // Keys and values in the dense cache's token-major layout ([T, kv_heads, d] storage, [kv_heads, T, d] view).
    at::Tensor k = at::randn({c.total, c.kv_heads, 128}, opts).transpose(0, 1);
    at::Tensor v = at::randn({c.total, c.kv_heads, 128}, opts).transpose(0, 1);
    const double scale = 1.0 / std::sqrt(128.0);
    at::Tensor expected = kernels::causal_tail_attention_reference(q, k, v, scale);
    for (const char* backend : {"cudnn", "flash", "sdpa"}) {
      try {
        at::Tensor got = kernels::causal_tail_attention_with(backend, q, k, v, scale);
        check(fmt::format("prefill {} h{}/{} t{} T{}", backend, c.heads, c.kv_heads, c.t, c.total),
              rel_error(got, expected), 2e-2);
      } catch (const std::exception& e) {
        g_failed = true;
        emit({{"check", fmt::format("prefill {} h{}/{} t{} T{}", backend, c.heads, c.kv_heads, c.t, c.total)},
              {"ok", false}, {"error", e.what()}});
      }
    }
  }
}

void prefill_speed(bool quick) {
  const at::TensorOptions opts = at::TensorOptions().dtype(at::kBFloat16).device(at::kCUDA);
  const int64_t heads = 32, kv_heads = 8, dim = 128, chunk = 4096;
  const double scale = 1.0 / std::sqrt(128.0);
  std::vector<int64_t> lengths = {8192, 32768, 131072};
  if (quick) lengths.resize(2);
  for (int64_t length : lengths) {
    at::Tensor q = at::randn({length, heads, dim}, opts).transpose(0, 1);  // [heads, L, d] view of [L, heads, d]
    at::Tensor k = at::randn({length, kv_heads, dim}, opts).transpose(0, 1);
    at::Tensor v = at::randn({length, kv_heads, dim}, opts).transpose(0, 1);
    const double flops = 2.0 * heads * dim * static_cast<double>(length) * static_cast<double>(length);
    for (const char* backend : {"cudnn", "flash", "sdpa"}) {
      if (std::string(backend) == "sdpa" && length > 32768) continue;  // mask path: minutes at 128K
      for (bool chunked : {true, false}) {
        auto run = [&] {
          if (!chunked) {
            kernels::causal_tail_attention_with(backend, q, k, v, scale);
            return;
          }
          for (int64_t begin = 0; begin < length; begin += chunk) {
            const int64_t n = std::min(chunk, length - begin);
            kernels::causal_tail_attention_with(backend, q.narrow(1, begin, n), k.narrow(1, 0, begin + n),
                                                v.narrow(1, 0, begin + n), scale);
          }
        };
        try {
          auto first_start = std::chrono::steady_clock::now();
          run();
          at::cuda::getCurrentCUDAStream().synchronize();
          const double first = std::chrono::duration<double>(std::chrono::steady_clock::now() - first_start).count();
          const double seconds = time_cuda(run, 1, length >= 131072 ? 3 : 5);
          emit({{"bench", "prefill_attention"}, {"backend", backend}, {"length", length},
                {"chunk", chunked ? chunk : length}, {"seconds", seconds}, {"first_call_seconds", first},
                {"tflop_s", flops / seconds / 1e12}});
        } catch (const std::exception& e) {
          emit({{"bench", "prefill_attention"}, {"backend", backend}, {"length", length},
                {"chunk", chunked ? chunk : length}, {"error", e.what()}});
        }
      }
    }
  }
}


// Section 7: the MoE block's two expert computations at Qwen3-30B-A3B's shape.
// The fp32 reference: the same routing (the bf16 router, softmax fp32, top 8, renormalised), each expert's MLP in
// fp32 on the bf16 weights, weighted by the fp32 probabilities, summed.
at::Tensor moe_reference_fp32(const at::Tensor& x, const model::SparseMoeWeights& w) {
  at::Tensor probs = at::softmax(at::linear(x, w.router), -1, at::kFloat);
  auto [top, experts] = at::topk(probs, w.top_k, -1);
  if (w.norm_topk_prob) top = top / top.sum(-1, true);
  const at::Tensor xf = x.to(at::kFloat);
  const int64_t inter = w.down.size(2);
  at::Tensor out = at::zeros(x.sizes(), xf.options());
  for (int64_t e = 0; e < w.gate_up.size(0); ++e) {
    at::Tensor hit = (experts == e).nonzero();  // [n, 2]: (row, slot)
    if (hit.size(0) == 0) continue;
    at::Tensor rows = hit.select(1, 0), slots = hit.select(1, 1);
    at::Tensor gate_up = at::linear(xf.index_select(0, rows), w.gate_up[e].to(at::kFloat));
    at::Tensor h = at::silu(gate_up.narrow(1, 0, inter)) * gate_up.narrow(1, inter, inter);
    at::Tensor weight = top.reshape(-1).index_select(0, rows * w.top_k + slots).unsqueeze(1);
    at::Tensor y = at::linear(h, w.down[e].to(at::kFloat)) * weight;
    out.index_add_(0, rows, y);
  }
  return out;
}

double max_abs(const at::Tensor& a, const at::Tensor& b) {
  const double d = (a.to(at::kFloat) - b.to(at::kFloat)).abs().max().item<double>();
  return std::isfinite(d) ? d : 1e30;
}

void moe_checks_and_speed() {
  const int64_t hidden = 2048, experts = 128, inter = 768, top_k = 8;
  const at::TensorOptions o = at::TensorOptions().dtype(at::kBFloat16).device(at::kCUDA);
  model::SparseMoeWeights w;
  w.router = at::randn({experts, hidden}, o) * (1.0 / std::sqrt(static_cast<double>(hidden)));
  w.gate_up = at::randn({experts, 2 * inter, hidden}, o) * (1.0 / std::sqrt(static_cast<double>(hidden)));
  w.down = at::randn({experts, hidden, inter}, o) * (1.0 / std::sqrt(static_cast<double>(inter)));
  w.top_k = top_k;
  w.norm_topk_prob = true;
  w.grouped = model::grouped_experts_supported(w);
  const cudaDeviceProp* device = at::cuda::getCurrentDeviceProperties();
  emit({{"bench", "moe_setup"}, {"hidden", hidden}, {"experts", experts}, {"moe_intermediate", inter},
        {"top_k", top_k}, {"compute_capability", fmt::format("{}.{}", device->major, device->minor)},
        {"grouped_supported", w.grouped}});
  if (!w.grouped) {
    g_failed = true;
    emit({{"check", "moe_grouped supported"}, {"ok", false},
          {"error", "grouped_experts_supported is false on this build/device"}});
    return;
  }
  for (int64_t rows : {int64_t{1}, int64_t{8}, int64_t{64}, int64_t{4096}}) {
    const std::string name = fmt::format("moe_grouped rows{}", rows);
    try {
      const at::Tensor x = at::randn({rows, hidden}, o);
      const at::Tensor grouped = model::sparse_moe_grouped(x, w);
      const at::Tensor per_expert = model::sparse_moe_per_expert(x, w);
      const at::Tensor reference = moe_reference_fp32(x, w);
      const double max_ref = reference.abs().max().item<double>();
      const double grouped_error = max_abs(grouped, reference), per_expert_error = max_abs(per_expert, reference);
      const double between = max_abs(grouped, per_expert);
      // bf16 tolerance: within twice the per-expert path's own error against fp32, or 1% of the largest output.
      const double tolerance = std::max(2.0 * per_expert_error, 1e-2 * max_ref);
      const double rel = rel_error(grouped, reference);
      const bool ok = grouped_error <= tolerance && rel <= 1e-2;
      if (!ok) g_failed = true;
      const double grouped_ms = 1e3 * time_cuda([&] { model::sparse_moe_grouped(x, w); }, 3, 15);
      const double per_expert_ms = 1e3 * time_cuda([&] { model::sparse_moe_per_expert(x, w); }, 3, 15);
      emit({{"check", name}, {"rows", rows}, {"max_abs_error_vs_fp32", grouped_error},
            {"per_expert_max_abs_error_vs_fp32", per_expert_error}, {"max_abs_grouped_vs_per_expert", between},
            {"max_abs_reference", max_ref}, {"rel_error", rel}, {"tolerance", tolerance}, {"ok", ok},
            {"grouped_ms", grouped_ms}, {"per_expert_ms", per_expert_ms}, {"speedup", per_expert_ms / grouped_ms}});
    } catch (const std::exception& e) {
      g_failed = true;
      emit({{"check", name}, {"ok", false}, {"error", e.what()}});
    }
  }
  // The grouped path inside a CUDA graph: captured on a side stream (after an uncaptured warm-up there, as
  // decode_graphs.cpp does), replayed on new inputs written into the captured input buffer.
  for (int64_t rows : {int64_t{1}, int64_t{64}}) {
    const std::string name = fmt::format("moe_grouped cuda_graph rows{}", rows);
    try {
      at::Tensor input = at::randn({rows, hidden}, o);
      at::Tensor captured_out;
      at::cuda::CUDAGraph graph;
      at::cuda::CUDAStream side = at::cuda::getStreamFromPool();
      at::cuda::CUDAStream main = at::cuda::getCurrentCUDAStream();
      at::cuda::CUDAEvent ready;
      ready.record(main);
      ready.block(side);
      {
        c10::cuda::CUDAStreamGuard guard(side);
        model::sparse_moe_grouped(input, w);
        side.synchronize();
        graph.capture_begin();
        try {
          captured_out = model::sparse_moe_grouped(input, w);
        } catch (...) {
          try {
            graph.capture_end();
          } catch (...) {
          }
          throw;
        }
        graph.capture_end();
      }
      at::cuda::CUDAEvent done;
      done.record(side);
      done.block(main);
      double replay_error = 0, per_expert_error = 0;
      for (int trial = 0; trial < 3; ++trial) {
        const at::Tensor x = at::randn({rows, hidden}, o);
        input.copy_(x);
        graph.replay();
        const at::Tensor eager = model::sparse_moe_grouped(x, w);
        replay_error = std::max(replay_error, max_abs(captured_out, eager));
        per_expert_error = std::max(per_expert_error, max_abs(captured_out, model::sparse_moe_per_expert(x, w)));
      }
      const bool ok = replay_error == 0.0;
      if (!ok) g_failed = true;
      const double replay_ms = 1e3 * time_cuda([&] { graph.replay(); }, 3, 15);
      const double eager_ms = 1e3 * time_cuda([&] { model::sparse_moe_grouped(input, w); }, 3, 15);
      emit({{"check", name}, {"rows", rows}, {"max_abs_replay_vs_eager", replay_error},
            {"max_abs_replay_vs_per_expert", per_expert_error}, {"ok", ok}, {"replay_ms", replay_ms},
            {"eager_grouped_ms", eager_ms}});
    } catch (const std::exception& e) {
      g_failed = true;
      emit({{"check", name}, {"ok", false}, {"error", e.what()}});
    }
  }
}

}  // namespace

// libtorch's ops, as kernels/layers.cpp and rope.cpp run them where no fused kernel applies.
at::Tensor rms_norm_ops(const at::Tensor& x, const at::Tensor& weight, double eps) {
  at::Tensor hidden = x.to(at::kFloat);
  hidden = hidden * at::rsqrt(hidden.pow(2).mean(-1, true) + eps);
  return weight * hidden.to(x.scalar_type());
}
at::Tensor silu_mul_ops(const at::Tensor& gate_up) {
  const int64_t inter = gate_up.size(-1) / 2;
  return at::silu(gate_up.narrow(-1, 0, inter)) * gate_up.narrow(-1, inter, inter);
}
at::Tensor rope_ops(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin) {
  const int64_t half = x.size(-1) / 2;
  return x * cos + at::cat({-x.narrow(-1, half, half), x.narrow(-1, 0, half)}, -1) * sin;
}

void layer_checks_and_speed() {
  struct Type {
    at::ScalarType type;
    double tolerance;
  };
  for (const Type& t : {Type{at::kBFloat16, 4e-3}, Type{at::kHalf, 1e-3}, Type{at::kFloat, 1e-5}}) {
    const at::TensorOptions o = at::TensorOptions().dtype(t.type).device(at::kCUDA);
    const std::string name = c10::toString(t.type);
    const int64_t rows = 1000, hidden = 4096, heads = 32, kv_heads = 8, dim = 128, inter = 14336;
    at::Tensor x = at::randn({rows, hidden}, o), delta = at::randn({rows, hidden}, o);
    at::Tensor weight = at::rand({hidden}, o) + 0.5;
    at::Tensor fused = kernels::cuda::fused_rms_norm(x, weight, 1e-5);
    check("rms_norm " + name + " [1000, 4096]", fused.defined() ? rel_error(fused, rms_norm_ops(x, weight, 1e-5)) : 1e30,
          t.tolerance);
    at::Tensor qkv = at::randn({rows, (heads + 2 * kv_heads) * dim}, o);
    at::Tensor q = qkv.narrow(1, 0, heads * dim).view({rows, heads, dim});  // strided rows, as with qk-norm
    at::Tensor head_weight = at::rand({dim}, o) + 0.5;
    fused = kernels::cuda::fused_rms_norm(q, head_weight, 1e-6);
    check("rms_norm " + name + " strided [1000, 32, 128] of qkv",
          fused.defined() ? rel_error(fused, rms_norm_ops(q, head_weight, 1e-6)) : 1e30, t.tolerance);
    at::Tensor h = x.clone(), out;
    const bool applied = kernels::cuda::fused_add_rms_norm(h, delta, weight, 1e-5, out);
    at::Tensor expected_hidden = x + delta;
    check("add_rms_norm " + name + " hidden", applied ? rel_error(h, expected_hidden) : 1e30, 0.0);
    check("add_rms_norm " + name + " normed",
          applied ? rel_error(out, rms_norm_ops(expected_hidden, weight, 1e-5)) : 1e30, t.tolerance);
    at::Tensor gate_up = at::randn({rows, 2 * inter}, o) * 3;
    fused = kernels::cuda::fused_silu_mul(gate_up);
    check("silu_mul " + name + " [1000, 2x14336]", fused.defined() ? rel_error(fused, silu_mul_ops(gate_up)) : 1e30,
          t.tolerance);
    // Prefill layout: [heads, t, dim] transposed out of qkv, cos/sin [t, dim]; decode: [batch, heads, dim] with
    // cos/sin [batch, 1, dim].
    at::Tensor cos = at::randn({rows, dim}, o), sin = at::randn({rows, dim}, o);
    at::Tensor qt = q.transpose(0, 1);
    fused = kernels::cuda::fused_rope(qt, cos, sin);
    check("rope " + name + " prefill [32, 1000, 128] of qkv",
          fused.defined() ? rel_error(fused, rope_ops(qt, cos, sin)) : 1e30, t.tolerance);
    at::Tensor qd = at::randn({7, heads, dim}, o), cd = at::randn({7, 1, dim}, o), sd = at::randn({7, 1, dim}, o);
    fused = kernels::cuda::fused_rope(qd, cd, sd);
    check("rope " + name + " decode [7, 32, 128]", fused.defined() ? rel_error(fused, rope_ops(qd, cd, sd)) : 1e30,
          t.tolerance);
  }
  // Speed at an 8K-token chunk of Llama-3.1-8B (bf16): fused kernel against libtorch's ops.
  const at::TensorOptions o = at::TensorOptions().dtype(at::kBFloat16).device(at::kCUDA);
  const int64_t rows = 8192;
  at::Tensor x = at::randn({rows, 4096}, o), delta = at::randn({rows, 4096}, o), weight = at::rand({4096}, o);
  at::Tensor gate_up = at::randn({rows, 2 * 14336}, o);
  at::Tensor qkv = at::randn({rows, 48 * 128}, o);
  at::Tensor qt = qkv.narrow(1, 0, 32 * 128).view({rows, 32, 128}).transpose(0, 1);
  at::Tensor cos = at::randn({rows, 128}, o), sin = at::randn({rows, 128}, o);
  struct Op {
    std::string name;
    std::function<void()> fused, ops;
  };
  at::Tensor h = x.clone();
  const std::vector<Op> ops = {
      {"rms_norm", [&] { kernels::rms_norm(x, weight, 1e-5); }, [&] { rms_norm_ops(x, weight, 1e-5); }},
      {"add_rms_norm", [&] { kernels::add_rms_norm(h, delta, weight, 1e-5); },
       [&] { rms_norm_ops(x + delta, weight, 1e-5); }},
      {"silu_mul", [&] { kernels::cuda::fused_silu_mul(gate_up); }, [&] { silu_mul_ops(gate_up); }},
      {"rope_q", [&] { kernels::apply_rope(qt, cos, sin); }, [&] { rope_ops(qt, cos, sin); }},
  };
  for (const Op& op : ops) {
    const double fused_ms = time_cuda(op.fused) * 1e3, ops_ms = time_cuda(op.ops) * 1e3;
    emit({{"bench", "layer_op"}, {"op", op.name}, {"rows", rows}, {"fused_ms", fused_ms}, {"libtorch_ops_ms", ops_ms},
          {"speedup", ops_ms / fused_ms}});
  }
}

int main(int argc, char** argv) {
  bool quick = false, moe_only = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--quick") {
      quick = true;
    } else if (arg == "--only" && i + 1 < argc && std::string(argv[i + 1]) == "moe") {
      moe_only = true;
      ++i;
    } else if (arg == "--json" && i + 1 < argc) {
      g_json.open(argv[++i], std::ios::app);
    } else {
      std::fprintf(stderr, "usage: engine_kernels [--quick] [--only moe] [--json FILE]\n");
      return 2;
    }
  }
  if (!at::cuda::is_available()) {
    std::fprintf(stderr, "engine_kernels: no CUDA device\n");
    return 2;
  }
  c10::InferenceMode guard;
  at::manual_seed(0);
  if (moe_only) {
    moe_checks_and_speed();
    emit({{"done", true}, {"failed", g_failed}});
    return g_failed ? 1 : 0;
  }
  const at::TensorOptions bf16 = at::TensorOptions().dtype(at::kBFloat16).device(at::kCUDA);
  at::Tensor a = at::randn({8192, 8192}, bf16), b = at::randn({8192, 8192}, bf16);
  const double mm = time_cuda([&] { at::mm(a, b); }, 3, 10);
  at::Tensor src = at::randn({int64_t{1} << 30}, at::TensorOptions().dtype(at::kFloat).device(at::kCUDA));
  at::Tensor dst = at::empty_like(src);
  const double copy = time_cuda([&] { dst.copy_(src); }, 3, 10);
  const double tflops = 2.0 * 8192.0 * 8192.0 * 8192.0 / mm / 1e12;
  const double copy_tb_s = 2.0 * static_cast<double>(src.nbytes()) / copy / 1e12;
  src = at::Tensor();
  dst = at::Tensor();
  emit({{"bench", "ceilings"}, {"device", at::cuda::getCurrentDeviceProperties()->name},
        {"bf16_matmul_tflop_s", tflops}, {"copy_tb_s", copy_tb_s}});
  kernels::select_prefill_attention("auto", at::Device(at::kCUDA, 0));
  emit({{"prefill_attention_auto", kernels::prefill_attention_name()}});
  layer_checks_and_speed();
  paged_checks(quick);
  prefill_checks();
  paged_speed(copy_tb_s);
  kivi_checks_and_speed(quick);
  prefill_speed(quick);
  moe_checks_and_speed();
  emit({{"done", true}, {"failed", g_failed}});
  return g_failed ? 1 : 0;
}
