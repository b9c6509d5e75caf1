// Tensor-core path of block_sparse_attention (internal to src/kernels/cuda): a flash-attention style kernel on
// mma.sync m16n8k16 (bf16 / fp16 inputs, fp32 accumulation and softmax; the probabilities are rounded to the input
// type before the P·V product, as flash attention does). One thread block of 4 warps per (query head, tile of 64
// query positions aligned to absolute position 0); key/value tiles of 64 tokens of each active key block are
// double-buffered in shared memory by cp.async, fragments are read with ldmatrix, and the online softmax lives in
// registers. ~240 TFLOP/s on an H200 (docs/performance/accel.md).
// block_sparse_attention() (block_sparse_attention.cu) calls it when block_sparse_mma_supported() says so and uses
// its CUDA-core kernel otherwise; arguments as in accel_kernels.h (BlockSparseAttentionParams).
//   block_sparse_mma_shape: bf16 / fp16, head_dim 64 or 128, block_size a positive multiple of 64;
//   block_sparse_mma_supported: that shape, 16-byte aligned pointers and a device of compute capability 8.0+.
#pragma once

#include "kernels/cuda/accel_kernels.h"

namespace loom::kernels::cuda {

bool block_sparse_mma_shape(ElementType type, int64_t head_dim, int64_t block_size);
bool block_sparse_mma_supported(const BlockSparseAttentionParams& params);

// Precondition: block_sparse_mma_supported(params) (not checked again here).
cudaError_t block_sparse_attention_mma(const BlockSparseAttentionParams& params, cudaStream_t stream);

}  // namespace loom::kernels::cuda
