#!/usr/bin/env python3
"""transformers side of bench/gpu_engine_bench.sh (GPU machine; needs torch, transformers, safetensors; no download).

  make      --out DIR [--config llama31_8b|FILE.json] [--layers N] [--tokenizer DIR]
            A model with random bf16 weights (transformers' own init, seed 0) from an HF config: the Llama-3.1-8B
            shape by default, or any config.json; --layers keeps the first N decoder layers. --tokenizer copies that
            directory's tokenizer files in, so loom_mpi can render and tokenize a job for it (ids stay < its vocab).
  generate  --model DIR --prompts FILE.jsonl [--method full] [--out FILE.jsonl] [--budget-s S] [--shuffle-seed N]
            [--order shuffle|by-length]
            transformers `generate` on the prompts loom_mpi wrote (`loom_mpi validate --dump-prompts`): the same ids,
            greedy, exactly max_new_tokens new tokens each (EOS generated like any other token, as loom_mpi's
            ignore_eos does), batch 1, in a fixed shuffled order (by-length: round robin over the target lengths,
            so a run cut short times rows of each length) (a row that fails, e.g. out of GPU memory, is
            recorded as failed with its reason and the run goes on), SDPA attention (cuDNN / flash as PyTorch picks) with an
            explicit all-ones attention mask (checked first: every prefill call must be SDPA's mask-free causal path). Prints one JSON line per sample and a summary with
            samples/hour; stops after --budget-s seconds (the summary says how many ran).
  selfcheck On the CPU: the attention-path check passes with generate()'s arguments and stops a run whose mask
            transformers infers from pad_token_id (a small random Llama; seconds).
"""
import argparse
import json
import os
import shutil
import time

import torch


def llama31_8b_config():
    from transformers import LlamaConfig
    return LlamaConfig(hidden_size=4096, intermediate_size=14336, num_hidden_layers=32, num_attention_heads=32,
                       num_key_value_heads=8, vocab_size=128256, max_position_embeddings=131072, rms_norm_eps=1e-5,
                       rope_theta=500000.0, tie_word_embeddings=False, bos_token_id=128000,
                       eos_token_id=[128001, 128008, 128009],
                       rope_scaling=dict(rope_type="llama3", factor=8.0, low_freq_factor=1.0, high_freq_factor=4.0,
                                         original_max_position_embeddings=8192))


def make(args):
    from transformers import AutoConfig, AutoModelForCausalLM
    t = time.time()
    config = llama31_8b_config() if args.config == "llama31_8b" else AutoConfig.from_pretrained(
        os.path.dirname(os.path.abspath(args.config)) if args.config.endswith("config.json") else args.config)
    if args.layers:
        config.num_hidden_layers = args.layers
    torch.manual_seed(0)
    torch.set_default_dtype(torch.bfloat16)
    with torch.device("cuda"):
        model = AutoModelForCausalLM.from_config(config)
    model.config.dtype = torch.bfloat16
    model.save_pretrained(args.out)
    if args.tokenizer:
        for name in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
            source = os.path.join(args.tokenizer, name)
            if os.path.exists(source):
                shutil.copy(source, args.out)
    print(json.dumps({"event": "made", "seconds": round(time.time() - t, 1), "model": args.out,
                      "params": sum(p.numel() for p in model.parameters()),
                      "layers": config.num_hidden_layers}), flush=True)


class FirstTokenClock:
    """A generate() streamer that notes when the first new token reaches the host: transformers' prefill time (the
    first put() is the prompt, the second the first sampled token, already copied to the host, so the GPU is done)."""

    def __init__(self):
        self.puts = 0
        self.at = None

    def put(self, value):
        self.puts += 1
        if self.puts == 2:
            self.at = time.time()

    def end(self):
        pass


def generate_kwargs(ids, max_new_tokens, **extra):
    """generate()'s arguments for one prompt: greedy, and an explicit all-ones attention mask. Without it transformers
    infers the mask from pad_token_id, masks every prompt token equal to it as padding (BOS is id 0 in tiny-loom's
    tokenizer, which the bench's models use), and then runs SDPA with a materialised [n, n] mask and repeated K/V
    heads: a different computation, slower, and out of memory at 128K on 80 GB (every figure before 2026-12-07's
    tenth session ran that way)."""
    return dict(attention_mask=torch.ones_like(ids), max_new_tokens=max_new_tokens, do_sample=False, pad_token_id=0,
                **extra)


def check_dense_causal(model, ids, kwargs=generate_kwargs):
    """Runs generate() once on ids and fails unless every prefill attention call is SDPA's mask-free causal path
    (is_causal, no attn_mask): the same dense causal attention over every prompt token that loom_mpi computes."""
    import torch.nn.functional as F
    original = F.scaled_dot_product_attention
    seen = []

    def probe(q, k, v, attn_mask=None, dropout_p=0.0, is_causal=False, **kw):
        if q.shape[-2] > 1:
            seen.append((attn_mask is None and is_causal, kw.get("enable_gqa", False)))
        return original(q, k, v, attn_mask=attn_mask, dropout_p=dropout_p, is_causal=is_causal, **kw)

    F.scaled_dot_product_attention = probe
    try:
        model.generate(ids, **kwargs(ids, 4))
    finally:
        F.scaled_dot_product_attention = original
    ok = bool(seen) and all(dense for dense, _ in seen)
    print(json.dumps({"event": "hf_attention_path", "prefill_calls": len(seen), "mask_free_causal": ok,
                      "enable_gqa": any(gqa for _, gqa in seen)}), flush=True)
    if not ok:
        raise SystemExit("hf_baseline: transformers' prefill did not run SDPA's mask-free causal path "
                         "(a padding mask was applied); its timings would not be comparable")


def generate(args):
    from transformers import AutoModelForCausalLM
    t = time.time()
    model = AutoModelForCausalLM.from_pretrained(args.model, dtype=torch.bfloat16, attn_implementation="sdpa",
                                                 device_map="cuda").eval()
    load_s = time.time() - t
    # loom_mpi's ignore_eos (as vLLM's): an EOS token may be generated and generation goes on. transformers'
    # min_new_tokens would instead forbid EOS (a different token follows), so it is not used: with no EOS id the
    # model generates exactly max_new_tokens tokens, EOS ids included, as loom_mpi does.
    model.generation_config.eos_token_id = None
    from transformers import AutoTokenizer
    tokenizer = AutoTokenizer.from_pretrained(args.model)
    rows = []
    with open(args.prompts) as f:
        for line in f:
            row = json.loads(line)
            if row["method"] == args.method:
                rows.append(row)
    # A fixed shuffle, so a run cut short by --budget-s times a representative subset of the lengths.
    import random
    random.Random(args.shuffle_seed).shuffle(rows)
    if args.order == "by-length":
        # Round robin over the rows' target lengths (the third field of the sample key), each length's rows in the
        # shuffled order: a run cut short still times rows of every length, for the per-length estimate.
        groups = {}
        for row in rows:
            parts = row["sample_key"].split("/")
            groups.setdefault(parts[2] if len(parts) > 2 else "", []).append(row)
        queues = list(groups.values())
        rows = [queue[i] for i in range(max(len(q) for q in queues)) for queue in queues if i < len(queue)]
    out = open(args.out, "w") if args.out else None
    print(json.dumps({"event": "hf_loaded", "seconds": round(load_s, 1), "rows": len(rows),
                      "transformers": __import__("transformers").__version__, "torch": torch.__version__,
                      "device": torch.cuda.get_device_name()}), flush=True)
    done, failed, tokens, start = 0, 0, 0, time.time()
    with torch.inference_mode():
        # Warm-up (kernels, cuBLAS handles) and the attention-path check, not timed.
        warm = torch.tensor([rows[0]["input_ids"][:512]], device="cuda")
        check_dense_causal(model, warm)
        torch.cuda.synchronize()
        start = time.time()
        for row in rows:
            if time.time() - start > args.budget_s:
                break
            ids = torch.tensor([row["input_ids"]], device="cuda")
            n = int(row["max_new_tokens"])
            t0 = time.time()
            first_token = FirstTokenClock()
            try:
                result = model.generate(ids, **generate_kwargs(ids, n, streamer=first_token))
                torch.cuda.synchronize()
            except (torch.cuda.OutOfMemoryError, RuntimeError) as error:
                # A row transformers cannot run on this GPU (out of memory, a backend's limit): recorded with its
                # reason, not timed as done; the run goes on.
                del ids
                torch.cuda.empty_cache()
                failed += 1
                reason = "CUDA out of memory" if isinstance(error, torch.cuda.OutOfMemoryError) else str(error)[:300]
                line = {"event": "sample_failed", "sample_key": row["sample_key"],
                        "input_tokens": len(row["input_ids"]), "reason": reason,
                        "seconds": round(time.time() - t0, 4)}
                print(json.dumps(line), flush=True)
                if out:
                    out.write(json.dumps(line) + "\n")
                continue
            seconds = time.time() - t0
            generated = result.shape[1] - ids.shape[1]
            done += 1
            tokens += generated
            line = {"event": "sample", "sample_key": row["sample_key"], "input_tokens": len(row["input_ids"]),
                    "generated": generated, "seconds": round(seconds, 4),
                    "prefill_seconds": round(first_token.at - t0, 4) if first_token.at else None,
                    "text": tokenizer.decode(result[0, ids.shape[1]:].tolist(), skip_special_tokens=True)}
            print(json.dumps(line), flush=True)
            if out:
                out.write(json.dumps(line) + "\n")
    wall = time.time() - start
    summary = {"event": "hf_summary", "samples": done, "failed": failed, "of": len(rows), "seconds": round(wall, 2),
               "samples_per_hour": round(3600.0 * done / wall, 1) if wall > 0 else 0, "generated_tokens": tokens}
    print(json.dumps(summary), flush=True)
    if out:
        out.write(json.dumps(summary) + "\n")


def selfcheck(args):
    """On the CPU, a 2-layer random Llama and a prompt that starts with id 0: the attention-path check passes with
    generate_kwargs (and generate's first token is a plain forward's argmax) and stops a run whose mask transformers
    infers from pad_token_id=0."""
    from transformers import LlamaConfig, LlamaForCausalLM
    torch.manual_seed(0)
    config = LlamaConfig(hidden_size=128, intermediate_size=256, num_hidden_layers=2, num_attention_heads=4,
                         num_key_value_heads=2, vocab_size=512, max_position_embeddings=1024)
    model = LlamaForCausalLM(config).eval()
    model.config._attn_implementation = "sdpa"
    ids = torch.cat([torch.zeros(1, 1, dtype=torch.long), torch.randint(1, 512, (1, 255))], dim=1)
    with torch.inference_mode():
        check_dense_causal(model, ids)
        first = model.generate(ids, **generate_kwargs(ids, 1))[0, -1].item()
        assert first == model(ids).logits[0, -1].argmax().item(), "generate's first token is not the forward's argmax"
        try:
            check_dense_causal(model, ids, lambda i, n: dict(max_new_tokens=n, do_sample=False, pad_token_id=0))
        except SystemExit:
            print("selfcheck passed", flush=True)
            return
    raise SystemExit("selfcheck: a mask inferred from pad_token_id passed the attention-path check")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    m = sub.add_parser("make")
    m.add_argument("--out", required=True)
    m.add_argument("--config", default="llama31_8b")
    m.add_argument("--layers", type=int, default=0)
    m.add_argument("--tokenizer", default="")
    g = sub.add_parser("generate")
    g.add_argument("--model", required=True)
    g.add_argument("--prompts", required=True)
    g.add_argument("--method", default="full")
    g.add_argument("--out", default="")
    g.add_argument("--budget-s", type=float, default=1e9)
    g.add_argument("--shuffle-seed", type=int, default=0)
    g.add_argument("--order", choices=("shuffle", "by-length"), default="shuffle")
    sub.add_parser("selfcheck")
    args = p.parse_args()
    {"make": make, "generate": generate, "selfcheck": selfcheck}[args.command](args)


if __name__ == "__main__":
    main()
