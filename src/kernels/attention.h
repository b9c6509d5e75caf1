// Attention ops used by the engine's KV caches.
//
// causal_tail_attention: softmax(scale * Q K^T) V with grouped-query heads, where the queries are the LAST t_q
// tokens of the key sequence. Query i (0-based, of t_q) sits at position T - t_q + i and attends keys 0..T-t_q+i.
// Shapes: queries [num_heads, t_q, head_dim], keys/values [num_kv_heads, T, head_dim], num_heads a multiple of
// num_kv_heads (query head h reads KV head h / group, as transformers' repeat_kv). Returns [num_heads, t_q, head_dim]
// in the queries' dtype.
//
// CPU: a blocked reference (fp32 softmax, query blocks sized to bound the score matrix). CUDA with libtorch >= 2.1:
// at::scaled_dot_product_attention (flash or memory-efficient; see use_shape_independent_sdpa_backends).
#pragma once

#include <ATen/ATen.h>

namespace loom::kernels {

at::Tensor causal_tail_attention(const at::Tensor& queries, const at::Tensor& keys, const at::Tensor& values,
                                 double scale);

// Keeps libtorch's SDPA off its cuDNN backend (process-wide; no-op without CUDA). libtorch >= 2.5 prefers cuDNN
// attention on Hopper, which builds an execution plan per new shape: every decode step has a new key length, and
// on an H200 the first dense-cache decode at a length cost 63.6 ms/token against 2.9 ms once the shapes had been
// seen (bench/accel_engine, docs/performance/accel-engine.md). Flash attention has no per-shape set-up.
// DecoderModel calls it when it is placed on a CUDA device.
void use_shape_independent_sdpa_backends();

// The plain reference (always the blocked fp32 path, any device); tests compare the dispatching version with it.
at::Tensor causal_tail_attention_reference(const at::Tensor& queries, const at::Tensor& keys,
                                           const at::Tensor& values, double scale);

// Bytes of fp32 scores the reference materialises per query block: bounds CPU memory at long context, and keeps
// each block under glibc's mmap threshold so blocks reuse heap pages (256 MiB blocks made a 2K prefill of
// models/tiny-loom 2.5x slower, most of it page faults; bench/accel_engine, 2 vCPU).
constexpr int64_t kAttentionScoreBlockBytes = int64_t{8} << 20;

}  // namespace loom::kernels
