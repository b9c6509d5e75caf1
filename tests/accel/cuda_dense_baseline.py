#!/usr/bin/env python3
"""Dense baselines for docs/performance/accel.md on the GPU machine (PyTorch's own attention, bf16, Llama-3.1-8B
attention shape: 32 query heads, 8 KV heads, head_dim 128): decode attention of one token over the full cache, and
causal prefill attention of one layer. Times are CUDA-event medians. Run after cuda_accel_check."""
import torch
import torch.nn.functional as F


def median_ms(fn, repeats):
    for _ in range(3):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(repeats):
        start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        stop.record()
        stop.synchronize()
        times.append(start.elapsed_time(stop))
    return sorted(times)[len(times) // 2]


def main():
    torch.manual_seed(0)
    dev = "cuda"
    print("| dense baseline (torch %s SDPA) | context | ms / layer | ms / token (32 layers) |" % torch.__version__)
    for context in (32768, 131072):
        for kept in (context, context // 2, context // 8):
            q = torch.randn(1, 32, 1, 128, device=dev, dtype=torch.bfloat16)
            k = torch.randn(1, 8, kept, 128, device=dev, dtype=torch.bfloat16)
            v = torch.randn(1, 8, kept, 128, device=dev, dtype=torch.bfloat16)
            ms = median_ms(lambda: F.scaled_dot_product_attention(q, k, v, enable_gqa=True), 50)
            print(f"| decode, uniform dense cache of {kept} tokens | {context // 1024}K | {ms:.4f} | {ms * 32:.3f} |")
    for context in (8192, 32768):
        q = torch.randn(1, 32, context, 128, device=dev, dtype=torch.bfloat16)
        k = torch.randn(1, 8, context, 128, device=dev, dtype=torch.bfloat16)
        v = torch.randn(1, 8, context, 128, device=dev, dtype=torch.bfloat16)
        ms = median_ms(lambda: F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=True), 5)
        flops = 4 * 32 * context * context / 2 * 128
        print(f"| prefill causal attention, 1 layer | {context // 1024}K | {ms:.2f} ms | {flops / ms / 1e9:.0f} TFLOP/s |")


if __name__ == "__main__":
    main()
