// Attention ops used by the engine's KV caches.
//
// causal_tail_attention: softmax(scale * Q K^T) V with grouped-query heads, where the queries are the LAST t_q
// tokens of the key sequence. Query i (0-based, of t_q) sits at position T - t_q + i and attends keys 0..T-t_q+i.
// Shapes: queries [num_heads, t_q, head_dim], keys/values [num_kv_heads, T, head_dim] (any strides with a
// contiguous last dimension), num_heads a multiple of num_kv_heads (query head h reads KV head h / group, as
// transformers' repeat_kv). Returns [num_heads, t_q, head_dim] in the queries' dtype.
//
// CPU: a blocked reference (fp32 softmax, query blocks sized to bound the score matrix). CUDA: the prefill
// attention chosen by select_prefill_attention (process-wide):
//   cudnn — cuDNN's fused attention in two parts, the chunk's queries over the cached prefix (no mask) and over the
//           chunk itself (causal square), merged by their log-sum-exps (kernels/cuda/merge_attention.h); the chunk
//           is padded to a multiple of 256 tokens and the prefix is a multiple of the chunk size, so cuDNN's
//           per-shape execution plans repeat across prompts;
//   flash — FlashAttention-2 with its bottom-right aligned causal mask, one call per chunk;
//   sdpa  — libtorch's dispatcher (a boolean bottom-right mask for chunks: the memory-efficient kernel).
// "auto" takes cudnn when it agrees with the fp32 reference on a self-check at selection, else flash. fp32 inputs,
// head_dim not a multiple of 8 or above 256, and libtorch without these ops take sdpa.
#pragma once

#include <ATen/ATen.h>

#include <string>

namespace loom::kernels {

at::Tensor causal_tail_attention(const at::Tensor& queries, const at::Tensor& keys, const at::Tensor& values,
                                 double scale);

// name: auto|cudnn|flash|sdpa. Throws InputError for another name, or for cudnn/flash where this libtorch lacks
// them. No-op for CPU devices (the reference is used there).
void select_prefill_attention(const std::string& name, at::Device device);
std::string prefill_attention_name();  // what causal_tail_attention uses on CUDA now

// The plain reference (always the blocked fp32 path, any device); tests compare the dispatching version with it.
at::Tensor causal_tail_attention_reference(const at::Tensor& queries, const at::Tensor& keys,
                                           const at::Tensor& values, double scale);

// One backend explicitly (benchmarks and checks): "cudnn", "flash", "sdpa" or "reference".
at::Tensor causal_tail_attention_with(const std::string& backend, const at::Tensor& queries, const at::Tensor& keys,
                                      const at::Tensor& values, double scale);

// Bytes of fp32 scores the reference materialises per query block: bounds CPU memory at long context, and keeps
// each block under glibc's mmap threshold so blocks reuse heap pages (256 MiB blocks made a 2K prefill of
// models/tiny-loom 2.5x slower, most of it page faults; bench/accel_engine, 2 vCPU).
constexpr int64_t kAttentionScoreBlockBytes = int64_t{8} << 20;

}  // namespace loom::kernels
