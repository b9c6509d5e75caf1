"""Fine-tune tiny-loom on random needles in loom_mpi's NIAH format (round 2), with replay of round 1's formats
(gkamradt-style NIAH with the same needles, RULER niah tasks), on one CPU thread.

Contract: starts from the HF model in --init (config + weights), trains for --minutes of wall time (the learning
rate follows the elapsed fraction: warm-up, then cosine to 10%), checkpoints to --out/ckpt.pt every --ckpt_every
seconds and resumes from it when restarted with the same --out, logs to --out/train.log (loss, answer-token accuracy,
greedy answers on fixed probes: needles training never draws at depths 0/50/100, the default needle present and
absent, a RULER prompt), and writes --out/hf/ at the end; --export DIR writes a complete model directory from the
checkpoint. Two rows (--accumulate) per optimizer step. One thread for torch and for the tokenizer.

    python3 tools/tiny_model/finetune.py --init /tmp/round1 --essays data/niah/PaulGrahamEssays \
        --out /tmp/ft --minutes 65 --lr 2e-4       (the shipped weights: 570 steps, 2026-12-05; /tmp/round1 holds
    round 1's weights, models/tiny-loom/README.md says how)
"""
import argparse
import math
import os
import random
import sys
import time

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("RAYON_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import needles  # noqa: E402
import tasks  # noqa: E402

# task -> share of samples; "loom_niah" is needles.loom_niah, the rest are RULER niah tasks (replay)
MIX = {"loom_niah": 0.55, "gkamradt_mixed": 0.15, "niah_single_1": 0.03, "niah_single_2": 0.04,
       "niah_single_3": 0.03, "niah_multikey_1": 0.05, "niah_multikey_2": 0.05, "niah_multikey_3": 0.02,
       "niah_multivalue": 0.04, "niah_multiquery": 0.04}
SHORT_ROW, LONG_ROW, LONG_SHARE = 2048, 8192, 0.1
# needles of the trained families that training never draws (Reykjavik is not among needles.CITIES)
RETRIEVAL_PROBES = [("number", "The special magic Reykjavik number is: 5082914.", "What is the special magic Reykjavik number?"),
                    ("activity", "The best thing to do in Reykjavik is ride a wooden canoe along the river at sunset.",
                     "What is the best thing to do in Reykjavik?")]
CONTEXT_WEIGHT = 0.05
WORDS_PER_TOKEN = 0.64  # essay words per tiny-loom token (measured on the essays)


class Stream:
    def __init__(self, tok, src, seed):
        self.tok, self.src, self.rng = tok, src, random.Random(seed)
        self.bos = tok.token_to_id("<|begin_of_text|>")
        self.eos = tok.token_to_id("<|end_of_text|>")
        self.names, self.probs = list(MIX), list(MIX.values())

    def enc(self, text):
        return self.tok.encode(text, add_special_tokens=False).ids

    def sample(self, lo, hi):
        rng = self.rng
        task = rng.choices(self.names, self.probs)[0]
        target = int(math.exp(rng.uniform(math.log(lo), math.log(hi))))
        fu = rng.randint(0, 4) if rng.random() < 0.5 else 0
        if task == "loom_niah":
            fu = rng.randint(1, 5) if rng.random() < 0.7 else 0  # questions about the other needles too
            target = min(target, 1200) if rng.random() < 0.6 else target  # many short contexts: more answers per row
            s = needles.loom_niah(rng, self.src, max(20, int(target * WORDS_PER_TOKEN)), follow_ups=fu)
        elif task == "gkamradt_mixed":
            s = needles.gkamradt_mixed(rng, self.src, max(20, int(target * WORDS_PER_TOKEN)))
        else:
            s = tasks.make_task(rng, self.src, task, tasks.units_for_tokens(task, target), follow_ups=fu,
                                random_start=rng.random() < 0.8)
        ids = [self.bos] + self.enc(s.prompt + s.answer_prefix)
        w = [CONTEXT_WEIGHT] * len(ids)
        ans = self.enc(s.answer) + [self.eos]
        ids, w = ids + ans, w + [1.0] * len(ans)
        for q, a in s.extra:
            qi, ai = self.enc(q), self.enc(a) + [self.eos]
            ids, w = ids + qi + ai, w + [CONTEXT_WEIGHT] * len(qi) + [1.0] * len(ai)
        return ids, w

    def row(self):
        long = self.rng.random() < LONG_SHARE
        row_len = LONG_ROW if long else SHORT_ROW
        lo, hi = (2048, 7900) if long else (96, 1900)
        ids, w = [], []
        while len(ids) < row_len + 1:
            i, ww = self.sample(lo, hi)
            ids, w = ids + i, w + ww
        w = w[:row_len + 1]
        w[0] = 0.0
        return torch.tensor([ids[:row_len + 1]]), torch.tensor([w])


def probes(tok, src):
    rng = random.Random(7)
    bos = tok.token_to_id("<|begin_of_text|>")
    out = []
    for name, needle, question in RETRIEVAL_PROBES:
        for words, depth in ((600, 0), (2400, 50), (2400, 100)):
            s = needles.custom_probe(rng, src, words, needle, question, depth)
            out.append((f"{name}@{words}w/{depth}", [bos] + tok.encode(s.prompt, add_special_tokens=False).ids,
                        s.answer))
    s = needles.custom_probe(rng, src, 600, tasks.GK_NEEDLE, tasks.GK_QUESTION, 50)
    out.append(("sf@600w/50", [bos] + tok.encode(s.prompt, add_special_tokens=False).ids, s.answer))
    text = tasks._essay_text(rng, src, 600, random_start=False)
    prompt = needles.SYSTEM + "\n\n" + needles.TEMPLATE.format(context=text, question=tasks.GK_QUESTION)
    out.append(("sf-absent@600w", [bos] + tok.encode(prompt, add_special_tokens=False).ids,
                needles.ANSWER_PREFIX + needles.NOT_FOUND))
    s = tasks.make_task(rng, src, "niah_multikey_1", 900, random_start=False)
    out.append(("multikey_1@1.4K", [bos] + tok.encode(s.prompt + s.answer_prefix, add_special_tokens=False).ids,
                s.answer))
    return out


@torch.no_grad()
def greedy(model, ids, eos, max_new=40):
    model.eval()
    out = model.generate(torch.tensor([ids]), attention_mask=torch.ones(1, len(ids), dtype=torch.long),
                         max_new_tokens=max_new, do_sample=False, eos_token_id=eos, pad_token_id=eos)
    model.train()
    gen = out[0, len(ids):].tolist()
    return gen[:gen.index(eos)] if eos in gen else gen


def export_model(model, init_dir, out_dir):
    """A model directory loom_mpi and transformers read: weights (fp32 safetensors) + init_dir's other files."""
    import shutil
    os.makedirs(out_dir, exist_ok=True)
    model.save_pretrained(out_dir, safe_serialization=True)
    for name in ("config.json", "tokenizer.json", "tokenizer_config.json", "generation_config.json"):
        if os.path.exists(os.path.join(init_dir, name)):
            shutil.copyfile(os.path.join(init_dir, name), os.path.join(out_dir, name))


def log(out_dir, msg):
    line = f"[{time.strftime('%H:%M:%S')}] {msg}"
    print(line, flush=True)
    with open(os.path.join(out_dir, "train.log"), "a") as f:
        f.write(line + "\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--init", required=True, help="HF model directory to start from (config.json, weights, tokenizer)")
    ap.add_argument("--essays", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--minutes", type=float, default=120)
    ap.add_argument("--lr", type=float, default=1e-4)
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--accumulate", type=int, default=2, help="rows per optimizer step")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--ckpt_every", type=float, default=300, help="seconds")
    ap.add_argument("--probe_every", type=float, default=900, help="seconds")
    ap.add_argument("--max_steps", type=int, default=0, help="stop after this many steps (smoke test)")
    ap.add_argument("--export", help="write the checkpoint's weights as a model directory here (with --init's "
                                     "tokenizer and config files) and exit; does not train")
    a = ap.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(a.seed)
    os.makedirs(a.out, exist_ok=True)
    from tokenizers import Tokenizer
    from transformers import LlamaForCausalLM
    tok = Tokenizer.from_file(os.path.join(a.init, "tokenizer.json"))
    eos = tok.token_to_id("<|end_of_text|>")
    model = LlamaForCausalLM.from_pretrained(a.init, torch_dtype=torch.float32, attn_implementation="sdpa")
    model.train()
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=a.lr, betas=(0.9, 0.95), eps=1e-8)
    ckpt_path = os.path.join(a.out, "ckpt.pt")
    elapsed0, step = 0.0, 0
    if os.path.exists(ckpt_path):
        ck = torch.load(ckpt_path, weights_only=False)
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["opt"])
        elapsed0, step = ck["elapsed"], ck["step"]
        log(a.out, f"resumed at step {step}, elapsed {elapsed0:.0f}s")
    if a.export:
        export_model(model, a.init, a.export)
        log(a.out, f"exported step {step} to {a.export}")
        return
    src = tasks.Sources(a.essays)
    stream = Stream(tok, src, seed=a.seed * 100003 + step)
    probe_set = probes(tok, src)
    total_s = a.minutes * 60
    start = time.time() - elapsed0
    t_log = t_ckpt = time.time()
    t_probe = 0.0 if step == 0 else time.time()
    acc = [0.0, 0.0, 0.0]  # correct answer tokens, answer tokens, answer loss sum
    ntok = 0

    def save(elapsed):
        torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "elapsed": elapsed, "step": step},
                   ckpt_path + ".tmp")
        os.replace(ckpt_path + ".tmp", ckpt_path)

    while True:
        now = time.time()
        if now - t_probe > a.probe_every:
            for name, ids, ref in probe_set:
                pred = tok.decode(greedy(model, ids, eos))
                log(a.out, f"probe {name}: {'OK ' if pred.strip() == ref.strip() else 'MISS'} {pred.strip()!r}")
            t_probe = time.time()
            start += t_probe - now  # probes do not use the training budget
        elapsed = time.time() - start
        if elapsed >= total_s or (a.max_steps and step >= a.max_steps):
            break
        frac = elapsed / total_s
        lr = a.lr * min(1.0, (step + 1) / a.warmup) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * frac)))
        for g in opt.param_groups:
            g["lr"] = lr
        opt.zero_grad(set_to_none=True)
        for _ in range(a.accumulate):
            ids, w = stream.row()
            inp, tgt, w = ids[:, :-1], ids[:, 1:], w[:, 1:]
            logits = model(input_ids=inp).logits
            ce = F.cross_entropy(logits.flatten(0, 1), tgt.flatten(), reduction="none").view_as(w)
            loss = (ce * w).sum() / w.sum()
            (loss / a.accumulate).backward()
            ntok += inp.numel()
            with torch.no_grad():
                m = w == 1.0
                acc[0] += float((logits.argmax(-1)[m] == tgt[m]).sum())
                acc[1] += float(m.sum())
                acc[2] += float((ce * m).sum())
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        now = time.time()
        if now - t_log > 120:
            log(a.out, f"step {step} frac {frac:.3f} lr {lr:.2e} loss {loss.item():.3f} "
                       f"ans_loss {acc[2] / max(acc[1], 1):.3f} ans_acc {acc[0] / max(acc[1], 1):.3f} "
                       f"tok/s {ntok / (now - t_log):.0f}")
            acc, ntok, t_log = [0.0, 0.0, 0.0], 0, now
        if now - t_ckpt > a.ckpt_every:
            save(time.time() - start)
            t_ckpt = time.time()
    save(time.time() - start)
    for name, ids, ref in probe_set:
        pred = tok.decode(greedy(model, ids, eos))
        log(a.out, f"final probe {name}: {'OK ' if pred.strip() == ref.strip() else 'MISS'} {pred.strip()!r}")
    model.save_pretrained(os.path.join(a.out, "hf"), safe_serialization=True)
    log(a.out, f"done: {step} steps in {time.time() - start:.0f}s of budget; saved {os.path.join(a.out, 'hf')}")


if __name__ == "__main__":
    main()
