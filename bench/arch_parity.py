#!/usr/bin/env python3
"""transformers side of bench/gpu_engine_bench.sh's `arch` stage: every architecture the engine supports, as a small
random-weight model, against transformers on the same prompt ids (no download; needs torch, transformers,
safetensors).

  make     --out DIR --lengths 1024,3072,8192 --tokenizer DIR [--device cuda] [--archs a,b]
           For each architecture of architectures(): a model with transformers' own random init (seed fixed per
           architecture), weights rounded to bf16 and saved as bf16 safetensors in DIR/<arch>/ with the tokenizer
           directory's files (its vocab_size is the models'), no EOS id (so loom_mpi generates every step).
           DIR/ids.int32: the longest prompt's ids (random, seed 0); the prompts are its first L ids for each L of
           --lengths, also written as DIR/prompt_<L>.csv for `loom_mpi generate --ids`.
  compare  --dir DIR --lengths ... [--device cuda] [--dtype bfloat16] [--out FILE.jsonl] [--archs a,b]
           Reads what loom_mpi wrote per architecture and prompt: DIR/<arch>/ours_<L>.bin (tools/engine_parity: the
           prompt's last-position logits, fp32) and DIR/<arch>/generate_<L>.json (`loom_mpi generate --json`: the
           greedy tokens). transformers (SDPA attention) runs the prompt followed by loom_mpi's tokens once, in --dtype,
           and gives every step's logits: the first step's against loom_mpi's (max / mean |delta|), and at each
           generated step whether loom_mpi's token is transformers' argmax given the same prefix (teacher-forced
           greedy top-1 agreement; where they all agree, transformers' own greedy decode is loom_mpi's).

Tolerance (stated in each result line):
  float32  greedy-identical (every step's token is transformers' argmax) and first-step max |delta| <= 2e-3
           (what the CPU parity tests establish, at these prompt lengths);
  bfloat16 the same run in float32 by transformers is the yardstick of bf16 rounding: "floor" = transformers' bf16
           logits against its fp32 logits (same weights, same ids). Pass when the first step's mean |delta| <= 2 x
           the floor's mean and max |delta| <= 3 x the floor's max (pooled over the prompts), and every step where
           loom_mpi's token is not transformers' bf16 argmax is a near-tie: transformers' bf16 logit of its argmax
           exceeds that of loom_mpi's token by at most 3 x the floor's max. Random weights give small top-1 margins,
           so a raw agreement below 100% is expected in bf16; a disagreement outside bf16 rounding is not.

Architecture sizes (architectures()): 4 decoder layers, head_dim 128 (Phi-3: its real 96), GQA 8 query / 2 KV heads
(Phi-3: MHA as Phi-3-mini), hidden 1024 (Phi-3 768). Windows follow the longest prompt M (unit = M / 8): Mistral's
sliding window 2 x unit, Gemma-3's local layers (3 sliding, 1 global) unit, Phi-3 longrope's
original_max_position_embeddings 4 x unit (max_position_embeddings 16 x unit): with 1024,3072,8192 the window is
2048 / 1024 and Phi-3's switch at 4096 (the 8192 prompt runs on the long factors, the others on the short ones).
"""
import argparse
import json
import os
import shutil
import time

import numpy as np
import torch

FP32_MAX_TOL = 2e-3
MEAN_FACTOR, MAX_FACTOR, TIE_FACTOR = 2.0, 3.0, 3.0


def architectures(unit, vocab):
    """name -> (transformers config class, model class, config kwargs). The one description of each small model."""
    import transformers as t
    base = dict(vocab_size=vocab, hidden_size=1024, intermediate_size=2048, num_hidden_layers=4,
                num_attention_heads=8, num_key_value_heads=2, head_dim=128, rms_norm_eps=1e-6,
                max_position_embeddings=32768, tie_word_embeddings=False, bos_token_id=None, eos_token_id=None,
                pad_token_id=None)
    phi_heads = 96 // 2
    return {
        "llama": (t.LlamaConfig, t.LlamaForCausalLM,
                  dict(base, max_position_embeddings=131072,
                       rope_parameters=dict(rope_type="llama3", rope_theta=500000.0, factor=8.0, low_freq_factor=1.0,
                                            high_freq_factor=4.0, original_max_position_embeddings=8192))),
        "mistral": (t.MistralConfig, t.MistralForCausalLM,
                    dict(base, sliding_window=2 * unit, rope_parameters=dict(rope_type="default", rope_theta=10000.0))),
        "qwen2": (t.Qwen2Config, t.Qwen2ForCausalLM,
                  dict({k: v for k, v in base.items() if k != "head_dim"}, use_sliding_window=False,
                       rope_parameters=dict(rope_type="default", rope_theta=1000000.0))),
        "qwen3": (t.Qwen3Config, t.Qwen3ForCausalLM,
                  dict(base, rope_parameters=dict(rope_type="default", rope_theta=1000000.0))),
        "qwen3_moe": (t.Qwen3MoeConfig, t.Qwen3MoeForCausalLM,
                      dict(base, num_experts=8, num_experts_per_tok=2, moe_intermediate_size=512,
                           decoder_sparse_step=1, mlp_only_layers=[], norm_topk_prob=True,
                           rope_parameters=dict(rope_type="default", rope_theta=1000000.0))),
        # glm-4-9b-chat-hf's layout (model_type glm) and GLM-4-0414's (glm4): partial rotary on half of head_dim.
        "glm": (t.GlmConfig, t.GlmForCausalLM,
                dict(base, rope_parameters=dict(rope_type="default", rope_theta=10000.0, partial_rotary_factor=0.5))),
        "glm4": (t.Glm4Config, t.Glm4ForCausalLM,
                 dict(base, rope_parameters=dict(rope_type="default", rope_theta=10000.0, partial_rotary_factor=0.5))),
        # Phi-3-mini-128k / Phi-3.5-mini's layout: fused qkv / gate_up, MHA with head_dim 96, longrope.
        "phi3": (t.Phi3Config, t.Phi3ForCausalLM,
                 dict({k: v for k, v in base.items() if k != "head_dim"}, hidden_size=768, num_key_value_heads=8,
                      max_position_embeddings=16 * unit, original_max_position_embeddings=4 * unit,
                      sliding_window=None,
                      rope_parameters=dict(rope_type="longrope", rope_theta=10000.0,
                                           short_factor=[1.0 + 0.03 * i for i in range(phi_heads)],
                                           long_factor=[1.0 + 0.9 * i for i in range(phi_heads)]))),
        # Gemma-3 text: local layers (window `unit`, RoPE base 10K) and a global one (RoPE 1M, linear x8).
        "gemma3": (t.Gemma3TextConfig, t.Gemma3ForCausalLM,
                   dict(base, sliding_window=unit, query_pre_attn_scalar=128,
                        layer_types=["sliding_attention"] * 3 + ["full_attention"],
                        hidden_activation="gelu_pytorch_tanh", final_logit_softcapping=None,
                        rope_parameters={"full_attention": dict(rope_type="linear", factor=8.0, rope_theta=1000000.0),
                                         "sliding_attention": dict(rope_type="default", rope_theta=10000.0)})),
    }


def parse_lengths(text):
    lengths = sorted(int(x) for x in text.split(","))
    if not lengths or lengths[0] < 1:
        raise SystemExit(f"--lengths: expected positive integers, got {text!r}")
    return lengths


def selected(table, archs):
    names = list(table) if not archs else archs.split(",")
    unknown = [n for n in names if n not in table]
    if unknown:
        raise SystemExit(f"--archs: unknown {unknown} (known: {', '.join(table)})")
    return names


def tokenizer_vocab(directory):
    with open(os.path.join(directory, "config.json")) as f:
        return int(json.load(f)["vocab_size"])


def make(args):
    lengths = parse_lengths(args.lengths)
    unit = lengths[-1] // 8
    vocab = tokenizer_vocab(args.tokenizer)
    table = architectures(unit, vocab)
    os.makedirs(args.out, exist_ok=True)
    ids = torch.randint(4, vocab, (lengths[-1],), generator=torch.Generator().manual_seed(0)).to(torch.int32)
    ids.numpy().tofile(os.path.join(args.out, "ids.int32"))
    for length in lengths:
        with open(os.path.join(args.out, f"prompt_{length}.csv"), "w") as f:
            f.write(",".join(str(int(x)) for x in ids[:length]))
    for name in selected(table, args.archs):
        t0 = time.time()
        config_cls, model_cls, kwargs = table[name]
        config = config_cls(**kwargs)
        for key in ("bos_token_id", "eos_token_id", "pad_token_id"):  # some classes put their defaults back for None
            setattr(config, key, None)
        torch.manual_seed(sum(map(ord, name)))
        with torch.device(args.device):
            model = model_cls(config)
        model.config.dtype = torch.bfloat16
        model.generation_config.eos_token_id = None
        model.generation_config.bos_token_id = None
        path = os.path.join(args.out, name)
        shutil.rmtree(path, ignore_errors=True)
        model.to(torch.bfloat16).save_pretrained(path)
        for file in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
            if os.path.exists(os.path.join(args.tokenizer, file)):
                shutil.copy(os.path.join(args.tokenizer, file), path)
        print(json.dumps({"event": "arch_made", "arch": name, "model_type": config.model_type,
                          "params": sum(p.numel() for p in model.parameters()),
                          "seconds": round(time.time() - t0, 1)}), flush=True)
        del model


def load(path, dtype, device):
    from transformers import AutoConfig, AutoModelForCausalLM
    kwargs = dict(dtype=dtype, attn_implementation="sdpa")
    if "moe" in AutoConfig.from_pretrained(path).model_type:
        kwargs["experts_implementation"] = "eager"  # the modeling file's per-expert loop
    try:
        model = AutoModelForCausalLM.from_pretrained(path, **kwargs)
    except TypeError:  # a transformers without experts_implementation
        kwargs.pop("experts_implementation", None)
        model = AutoModelForCausalLM.from_pretrained(path, **kwargs)
    return model.to(device).eval()


@torch.inference_mode()
def step_logits(model, prompt, tokens, device):
    """Logits predicting each of `tokens` given the prompt and the tokens before it: [len(tokens), vocab], fp32."""
    ids = torch.tensor([prompt + tokens[:-1]], device=device)
    return model(input_ids=ids, logits_to_keep=len(tokens)).logits[0].float().cpu()


def compare_arch(name, args, lengths, prompt_ids):
    path = os.path.join(args.dir, name)
    dtype = {"bfloat16": torch.bfloat16, "float32": torch.float32}[args.dtype]
    t0 = time.time()
    model = load(path, dtype, args.device)
    reference = load(path, torch.float32, args.device) if dtype != torch.float32 else None
    rows, problems = [], []
    for length in lengths:
        ours_path = os.path.join(path, f"ours_{length}.bin")
        gen_path = os.path.join(path, f"generate_{length}.json")
        tokens = []
        try:
            with open(gen_path) as f:  # `loom_mpi generate --json`: one JSON object (log lines before it skipped)
                text = f.read()
            start = 0 if text.startswith("{\n") else text.find("\n{\n") + 1
            tokens = [int(x) for x in json.loads(text[start:])["output_ids"]]
        except (OSError, ValueError, KeyError) as error:
            problems.append(f"L={length}: no greedy tokens from loom_mpi generate ({type(error).__name__})")
        if not tokens:
            if os.path.exists(gen_path):
                problems.append(f"L={length}: loom_mpi generated no token")
            continue
        ours = None
        if os.path.exists(ours_path):
            ours = torch.from_numpy(np.fromfile(ours_path, dtype=np.float32))
        else:
            problems.append(f"L={length}: no prompt logits from engine_parity")
        prompt = prompt_ids[:length]
        hf = step_logits(model, prompt, tokens, args.device)
        floor = (hf - step_logits(reference, prompt, tokens, args.device)).abs() if reference is not None else None
        first = hf[0]
        top = hf.argmax(-1)
        chosen = torch.tensor(tokens)
        agree = top == chosen
        margin = hf.gather(1, top[:, None])[:, 0] - hf.gather(1, chosen[:, None])[:, 0]
        row = dict(length=length, steps=len(tokens), agree=int(agree.sum()),
                   first_divergence=int((~agree).nonzero()[0, 0]) if not bool(agree.all()) else None,
                   max_margin_disagree=float(margin[~agree].max()) if not bool(agree.all()) else 0.0,
                   logit_std=float(first.std()),
                   floor_max=float(floor[0].max()) if floor is not None else 0.0,
                   floor_mean=float(floor[0].mean()) if floor is not None else 0.0,
                   floor_max_all_steps=float(floor.max()) if floor is not None else 0.0)
        if ours is not None and ours.numel() == first.numel():
            delta = (ours.double() - first.double()).abs()
            row.update(first_top1=bool(ours.argmax() == first.argmax()),
                       first_token_is_ours_argmax=bool(int(ours.argmax()) == tokens[0]),
                       max_abs_delta=float(delta.max()), mean_abs_delta=float(delta.mean()))
        elif ours is not None:
            problems.append(f"L={length}: engine_parity wrote {ours.numel()} logits, transformers {first.numel()}")
        rows.append(row)
    del model, reference
    if args.device == "cuda":
        torch.cuda.empty_cache()
    line = {"event": "arch", "arch": name, "device": args.device, "dtype": args.dtype,
            "seconds": round(time.time() - t0, 1), "prompts": rows}
    with_logits = [r for r in rows if "max_abs_delta" in r]
    if rows:
        steps = sum(r["steps"] for r in rows)
        agree = sum(r["agree"] for r in rows)
        max_delta = max((r["max_abs_delta"] for r in with_logits), default=float("nan"))
        mean_delta = sum(r["mean_abs_delta"] for r in with_logits) / len(with_logits) if with_logits else float("nan")
        line.update(steps=steps, top1_agree=agree, max_abs_delta=max_delta, mean_abs_delta=mean_delta,
                    first_top1=sum(r["first_top1"] for r in with_logits))
        if dtype == torch.float32:
            line["tolerance"] = f"greedy-identical and max |delta| <= {FP32_MAX_TOL:g}"
            ok = agree == steps and max_delta <= FP32_MAX_TOL
        else:
            floor_max = max(r["floor_max"] for r in rows)
            floor_mean = sum(r["floor_mean"] for r in rows) / len(rows)
            tie = TIE_FACTOR * floor_max
            unexplained = sum(1 for r in rows if r["max_margin_disagree"] > tie)
            line.update(floor_max=floor_max, floor_mean=floor_mean, tie_tolerance=tie,
                        prompts_with_unexplained_disagreement=unexplained,
                        tolerance=(f"mean |delta| <= {MEAN_FACTOR:g} x floor mean ({MEAN_FACTOR * floor_mean:.4g}), "
                                   f"max |delta| <= {MAX_FACTOR:g} x floor max ({MAX_FACTOR * floor_max:.4g}), "
                                   f"disagreements within {tie:.4g} of transformers' top-1"))
            ok = mean_delta <= MEAN_FACTOR * floor_mean and max_delta <= MAX_FACTOR * floor_max and unexplained == 0
        line["pass"] = bool(ok and not problems)
    else:
        line["pass"] = False
    if problems:
        line["problems"] = problems
    return line


def compare(args):
    lengths = parse_lengths(args.lengths)
    prompt_ids = [int(x) for x in np.fromfile(os.path.join(args.dir, "ids.int32"), dtype=np.int32)]
    table = architectures(lengths[-1] // 8, 0)
    if args.out:
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    out = open(args.out, "a") if args.out else None
    info = {"event": "arch_reference", "transformers": __import__("transformers").__version__,
            "torch": torch.__version__, "device": args.device, "dtype": args.dtype,
            "gpu": torch.cuda.get_device_name() if args.device == "cuda" else ""}
    print(json.dumps(info), flush=True)
    if out:
        out.write(json.dumps(info) + "\n")
    for name in selected(table, args.archs):
        try:
            line = compare_arch(name, args, lengths, prompt_ids)
        except Exception as error:  # one architecture transformers cannot run is reported, the others go on
            line = {"event": "arch", "arch": name, "pass": False, "problems": [f"transformers: {error}"[:300]]}
        print(json.dumps(line), flush=True)
        if out:
            out.write(json.dumps(line) + "\n")
            out.flush()


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    m = sub.add_parser("make")
    m.add_argument("--out", required=True)
    m.add_argument("--tokenizer", required=True)
    c = sub.add_parser("compare")
    c.add_argument("--dir", required=True)
    c.add_argument("--dtype", default="bfloat16", choices=["bfloat16", "float32"])
    c.add_argument("--out", default="")
    for q in (m, c):
        q.add_argument("--lengths", default="1024,3072,8192")
        q.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
        q.add_argument("--archs", default="")
    args = p.parse_args()
    torch.manual_seed(0)
    {"make": make, "compare": compare}[args.command](args)


if __name__ == "__main__":
    main()
