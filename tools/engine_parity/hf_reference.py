#!/usr/bin/env python3
"""transformers side of the engine parity check (GPU machine; no download).

  make:  builds the Llama-3.1-8B shape (--layers of its 32 decoder layers) with random bf16 weights (transformers' own init), saves it as safetensors
         to --model, and writes --ids (int32 random prompt ids, seed 0).
  run:   loads --model with attn_implementation=sdpa, runs a full prefill (use_cache=True, logits_to_keep=1) of the
         first L ids for each --lengths, writes <out>/hf_<L>.bin (fp32 logits) and prints one JSON line per length.
  compare: max/mean |delta| and top-1 agreement of ours_<L>.bin against hf_<L>.bin.
"""
import argparse
import json
import os
import time

import numpy as np
import torch


def llama31_8b_config(layers=32):
    from transformers import LlamaConfig
    return LlamaConfig(hidden_size=4096, intermediate_size=14336, num_hidden_layers=layers, num_attention_heads=32,
                       num_key_value_heads=8, vocab_size=128256, max_position_embeddings=131072, rms_norm_eps=1e-5,
                       rope_theta=500000.0, tie_word_embeddings=False, bos_token_id=128000,
                       eos_token_id=[128001, 128008, 128009],
                       rope_scaling=dict(rope_type="llama3", factor=8.0, low_freq_factor=1.0, high_freq_factor=4.0,
                                         original_max_position_embeddings=8192))


def make(args):
    from transformers import LlamaForCausalLM
    torch.manual_seed(0)
    t = time.time()
    torch.set_default_dtype(torch.bfloat16)
    with torch.device("cuda"):
        model = LlamaForCausalLM(llama31_8b_config(args.layers))
    model.config.dtype = torch.bfloat16
    model.save_pretrained(args.model)
    ids = torch.randint(0, 128000, (args.max_len,), generator=torch.Generator().manual_seed(0)).to(torch.int32)
    ids.numpy().tofile(args.ids)
    print(json.dumps({"event": "made", "seconds": round(time.time() - t, 1),
                      "params": sum(p.numel() for p in model.parameters())}), flush=True)


def run(args):
    from transformers import LlamaForCausalLM
    t = time.time()
    model = LlamaForCausalLM.from_pretrained(args.model, dtype=torch.bfloat16, attn_implementation="sdpa",
                                             device_map="cuda").eval()
    print(json.dumps({"event": "hf_loaded", "seconds": round(time.time() - t, 1),
                      "transformers": __import__("transformers").__version__, "torch": torch.__version__}), flush=True)
    ids = torch.from_numpy(np.fromfile(args.ids, dtype=np.int32).astype(np.int64))
    for length in [int(x) for x in args.lengths.split(",")]:
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
        try:
            with torch.inference_mode():
                x = ids[:length][None].cuda()
                torch.cuda.synchronize()
                t = time.time()
                out = model(input_ids=x, use_cache=True, logits_to_keep=1)
                logits = out.logits[0, -1].float().cpu()
                seconds = time.time() - t
                del out
        except torch.OutOfMemoryError as e:
            print(json.dumps({"event": "failed", "engine": "transformers", "length": length, "error": str(e)[:200]}),
                  flush=True)
            continue
        logits.numpy().tofile(os.path.join(args.out, f"hf_{length}.bin"))
        print(json.dumps({"event": "prefill", "engine": "transformers", "length": length, "seconds": round(seconds, 3),
                          "peak_bytes": torch.cuda.max_memory_allocated()}), flush=True)


def compare(args):
    for length in [int(x) for x in args.lengths.split(",")]:
        hf_path, ours_path = (os.path.join(args.out, f"{k}_{length}.bin") for k in ("hf", "ours"))
        if not (os.path.exists(hf_path) and os.path.exists(ours_path)):
            print(json.dumps({"event": "compare", "length": length, "missing": True}), flush=True)
            continue
        hf, ours = np.fromfile(hf_path, dtype=np.float32), np.fromfile(ours_path, dtype=np.float32)
        delta = np.abs(hf.astype(np.float64) - ours)
        top5_hf, top5_ours = set(np.argsort(-hf)[:5]), set(np.argsort(-ours)[:5])
        print(json.dumps({"event": "compare", "length": length, "max_abs_delta": float(delta.max()),
                          "mean_abs_delta": float(delta.mean()), "logit_std": float(hf.std()),
                          "top1_agree": bool(hf.argmax() == ours.argmax()),
                          "top5_overlap": len(top5_hf & top5_ours)}), flush=True)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["make", "run", "compare"])
    p.add_argument("--model", default="/tmp/llama31_8b_random")
    p.add_argument("--ids", default="/tmp/parity_ids.int32")
    p.add_argument("--out", default="/tmp/parity")
    p.add_argument("--lengths", default="4096,32768,131072")
    p.add_argument("--max-len", type=int, default=131072)
    p.add_argument("--layers", type=int, default=32, help="make: number of decoder layers (the 8B shape has 32)")
    args = p.parse_args()
    os.makedirs(args.out, exist_ok=True)
    {"make": make, "run": run, "compare": compare}[args.mode](args)


if __name__ == "__main__":
    main()
