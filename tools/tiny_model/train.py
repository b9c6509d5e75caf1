"""Train the tiny Llama long-context model on generated RULER/NIAH prompts (one GPU, bf16 autocast).

Contract: time-budgeted training (--minutes): the curriculum phase (data.PHASES) and the cosine learning rate
follow the elapsed fraction of the budget, so the recipe is the same whatever the GPU's speed. Writes to --out:
train.log (progress, teacher-forced exact match on fixed eval prompts), ckpt.pt (resumable: model + optimizer
+ elapsed time) every few minutes, and hf/ (config.json + model.safetensors, fp32) at the end.

    python3 tools/tiny_model/train.py --tokenizer models/tiny-loom/tokenizer.json \
        --essays data/niah/PaulGrahamEssays --out /tmp/tiny_run --minutes 20
"""
import argparse
import math
import os
import random
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import data  # noqa: E402
import tasks  # noqa: E402
from transformers import LlamaConfig, LlamaForCausalLM  # noqa: E402

EVAL_TASKS = ["niah_single_1", "niah_single_2", "niah_multikey_1", "niah_multikey_2", "niah_multivalue", "vt",
              "gkamradt"]


def model_config(a, vocab):
    return LlamaConfig(vocab_size=vocab, hidden_size=a.d, intermediate_size=a.ffn, num_hidden_layers=a.layers,
                       num_attention_heads=a.heads, num_key_value_heads=a.kv, head_dim=a.d // a.heads,
                       max_position_embeddings=8192, rope_theta=a.rope_theta, rms_norm_eps=1e-5,
                       tie_word_embeddings=True, bos_token_id=0, eos_token_id=1, pad_token_id=1,
                       attention_bias=False, mlp_bias=False, hidden_act="silu", initializer_range=0.02)


class Batches(torch.utils.data.IterableDataset):
    def __init__(self, a, start, total_s):
        self.a, self.start, self.total_s = a, start, total_s

    def __iter__(self):
        info = torch.utils.data.get_worker_info()
        wid = info.id if info else 0
        stream = data.RowStream(self.a.tokenizer, self.a.essays, seed=self.a.seed * 1000 + wid + int(time.time()))
        while True:
            frac = (time.time() - self.start.value) / self.total_s
            row_len = data.phase_at(frac)[3]
            rows = max(1, self.a.batch_tokens // row_len)
            ids, ws = zip(*(stream.row(frac) for _ in range(rows)))
            yield torch.from_numpy(np.stack(ids)), torch.from_numpy(np.stack(ws)), frac


def eval_set(a, tok):
    rng = random.Random(1234)
    src = tasks.Sources(a.essays)
    out = []
    for task in EVAL_TASKS:
        for length in (1024, 4096, 8192):
            for _ in range(a.eval_samples):
                s = tasks.make_task(rng, src, task, tasks.units_for_tokens(task, length - 80), random_start=False)
                p, ans = data.exact_prompt_ids(tok, s)
                out.append((task, length, p, ans))
    return out


@torch.no_grad()
def teacher_forced_em(model, evals, dev):
    model.eval()
    res = {}
    for task, length, p, ans in evals:
        ids = torch.tensor([p + ans], device=dev)
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=dev.type == "cuda"):
            logits = model(input_ids=ids).logits[0, len(p) - 1:-1]
        ok = bool((logits.argmax(-1).cpu() == torch.tensor(ans)).all())
        res.setdefault((task, length), []).append(ok)
    model.train()
    return res


def log(a, msg):
    line = f"[{time.strftime('%H:%M:%S')}] {msg}"
    print(line, flush=True)
    with open(os.path.join(a.out, "train.log"), "a") as f:
        f.write(line + "\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tokenizer", required=True)
    ap.add_argument("--essays", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--minutes", type=float, default=20)
    ap.add_argument("--d", type=int, default=256)
    ap.add_argument("--ffn", type=int, default=768)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--heads", type=int, default=8)
    ap.add_argument("--kv", type=int, default=4)
    ap.add_argument("--rope_theta", type=float, default=500000.0)
    ap.add_argument("--lr", type=float, default=1.5e-3)
    ap.add_argument("--warmup", type=int, default=300)
    ap.add_argument("--batch_tokens", type=int, default=131072)
    ap.add_argument("--workers", type=int, default=12)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--eval_every", type=float, default=120, help="seconds")
    ap.add_argument("--eval_samples", type=int, default=6)
    ap.add_argument("--ckpt_every", type=float, default=180, help="seconds")
    ap.add_argument("--compile", action="store_true")
    ap.add_argument("--max_steps", type=int, default=0, help="stop after this many steps (smoke tests)")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    torch.manual_seed(a.seed)
    dev = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    from tokenizers import Tokenizer
    tok = Tokenizer.from_file(a.tokenizer)
    cfg = model_config(a, tok.get_vocab_size())
    model = LlamaForCausalLM(cfg).to(dev)
    nparams = sum(p.numel() for p in model.parameters())
    log(a, f"params {nparams / 1e6:.2f}M config d={a.d} L={a.layers} H={a.heads}/{a.kv} ffn={a.ffn} dev={dev}")
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=a.lr, betas=(0.9, 0.95), eps=1e-8, fused=dev.type == "cuda")
    total_s = a.minutes * 60
    elapsed0, step = 0.0, 0
    ckpt_path = os.path.join(a.out, "ckpt.pt")
    if os.path.exists(ckpt_path):
        ck = torch.load(ckpt_path, map_location=dev)
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["opt"])
        elapsed0, step = ck["elapsed"], ck["step"]
        log(a, f"resumed at step {step}, elapsed {elapsed0:.0f}s")
    fwd = torch.compile(model) if a.compile else model
    import multiprocessing as mp
    start = mp.Value("d", time.time() - elapsed0)
    loader = torch.utils.data.DataLoader(Batches(a, start, total_s), batch_size=None, num_workers=a.workers,
                                         prefetch_factor=4 if a.workers else None, persistent_workers=False)
    evals = eval_set(a, tok)
    t_eval = t_ckpt = time.time()
    acc_sum = acc_n = loss_sum = loss_n = 0.0
    tok_count = 0
    t_log = time.time()
    for ids, ws, frac in loader:
        elapsed = time.time() - start.value
        frac_now = elapsed / total_s
        if frac_now >= 1.0 or (a.max_steps and step >= a.max_steps):
            break
        lr = a.lr * min(1.0, (step + 1) / a.warmup) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(frac_now, 1))))
        for g in opt.param_groups:
            g["lr"] = lr
        ids = ids.to(dev, non_blocking=True).long()
        ws = ws.to(dev, non_blocking=True)
        inp, tgt, w = ids[:, :-1], ids[:, 1:], ws[:, 1:]
        with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=dev.type == "cuda"):
            logits = fwd(input_ids=inp).logits
        ce = F.cross_entropy(logits.float().flatten(0, 1), tgt.flatten(), reduction="none").view_as(w)
        loss = (ce * w).sum() / w.sum()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        tok_count += inp.numel()
        with torch.no_grad():
            m = w == 1.0
            acc_sum += float((logits.argmax(-1)[m] == tgt[m]).float().sum())
            acc_n += float(m.sum())
            loss_sum += float((ce * m).sum())
            loss_n += float(m.sum())
        now = time.time()
        if now - t_log > 30:
            log(a, f"step {step} frac {frac_now:.3f} phase {data.phase_at(float(frac))[1:]} lr {lr:.2e} "
                   f"loss {loss.item():.3f} ans_loss {loss_sum / max(loss_n, 1):.3f} "
                   f"ans_acc {acc_sum / max(acc_n, 1):.3f} tok/s {tok_count / (now - t_log):.0f}")
            acc_sum = acc_n = loss_sum = loss_n = 0.0
            tok_count = 0
            t_log = now
        if now - t_eval > a.eval_every:
            res = teacher_forced_em(model, evals, dev)
            log(a, "EM " + " ".join(f"{t}@{l}={sum(v) / len(v):.2f}" for (t, l), v in res.items()))
            t_eval = time.time()
        if now - t_ckpt > a.ckpt_every:
            torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "elapsed": elapsed, "step": step},
                       ckpt_path + ".tmp")
            os.replace(ckpt_path + ".tmp", ckpt_path)
            t_ckpt = time.time()
    res = teacher_forced_em(model, evals, dev)
    log(a, "FINAL EM " + " ".join(f"{t}@{l}={sum(v) / len(v):.2f}" for (t, l), v in res.items()))
    torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "elapsed": time.time() - start.value,
                "step": step}, ckpt_path)
    model.save_pretrained(os.path.join(a.out, "hf"), safe_serialization=True)
    log(a, f"done: {step} steps, saved {os.path.join(a.out, 'hf')}")
    os._exit(0)


if __name__ == "__main__":
    main()
