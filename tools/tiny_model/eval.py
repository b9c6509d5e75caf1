"""Greedy evaluation of the tiny model with Hugging Face transformers on generated RULER / NIAH prompts.

Contract: for every (task, length) it builds --samples prompts whose token count plus the task's generation
budget fits the length (RULER's rule), feeds BOS + prompt + answer_prefix, decodes greedily until EOS or the
budget, and scores with RULER's string_match_all (percentage of reference strings found in the prediction,
case-insensitive, averaged over samples). Prints a Markdown table and writes it, with all predictions, to
--out (JSON).

    python3 tools/tiny_model/eval.py --model models/tiny-loom --essays data/niah/PaulGrahamEssays \
        --lengths 1024 2048 4096 8192 --samples 25 --out /tmp/eval.json
"""
import argparse
import json
import os
import random
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import data  # noqa: E402
import tasks  # noqa: E402

TOKENS_TO_GENERATE = {"vt": 30, "gkamradt": 64}  # RULER: niah 128, variable_tracking 30
DEFAULT_TASKS = list(tasks.RULER_NIAH) + ["vt", "gkamradt"]


def string_match_all(pred, refs):
    return sum(r.lower() in pred.lower() for r in refs) / len(refs)


def fitted_sample(rng, src, tok, task, length, budget):
    """A sample whose prompt tokens + budget <= length: start from the estimate, shrink until it fits."""
    units = tasks.units_for_tokens(task, length - budget - 60)
    while True:
        state = rng.getstate()
        s = tasks.make_task(rng, src, task, units, random_start=False)
        p, a = data.exact_prompt_ids(tok, s)
        if len(p) + budget <= length or units <= 1:
            return s, p, a
        rng.setstate(state)
        units = max(1, int(units * (length - budget) / (len(p) + 1)) - 1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--essays", required=True)
    ap.add_argument("--tasks", nargs="+", default=DEFAULT_TASKS)
    ap.add_argument("--lengths", nargs="+", type=int, default=[1024, 2048, 4096, 8192])
    ap.add_argument("--samples", type=int, default=25)
    ap.add_argument("--max_new", type=int, default=64, help="cap on generated tokens (EOS stops earlier)")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--out", default="")
    a = ap.parse_args()
    from tokenizers import Tokenizer
    from transformers import AutoModelForCausalLM
    dev = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    tok = Tokenizer.from_file(os.path.join(a.model, "tokenizer.json"))
    model = AutoModelForCausalLM.from_pretrained(a.model).float().to(dev).eval()  # fp32 as stored
    src = tasks.Sources(a.essays)
    eos = tok.token_to_id("<|end_of_text|>")
    table, records = {}, []
    t0 = time.time()
    for task in a.tasks:
        budget = TOKENS_TO_GENERATE.get(task, 128)
        for length in a.lengths:
            rng = random.Random(f"{a.seed}-{task}-{length}")
            scores = []
            for i in range(a.samples):
                s, p, _ = fitted_sample(rng, src, tok, task, length, budget)
                with torch.inference_mode():
                    out = model.generate(torch.tensor([p], device=dev), attention_mask=torch.ones(1, len(p), device=dev,
                                         dtype=torch.long), max_new_tokens=min(budget, a.max_new), do_sample=False,
                                         eos_token_id=eos, pad_token_id=eos)
                gen = out[0, len(p):].tolist()
                if eos in gen:
                    gen = gen[:gen.index(eos)]
                pred = tok.decode(gen)
                sc = string_match_all(pred, s.outputs)
                scores.append(sc)
                records.append({"task": task, "length": length, "index": i, "input_tokens": len(p),
                                "prediction": pred, "outputs": s.outputs, "score": sc})
            table[(task, length)] = 100.0 * sum(scores) / len(scores)
            print(f"{task} {length}: {table[(task, length)]:.1f} ({time.time() - t0:.0f}s)", flush=True)
    header = "| task | " + " | ".join(f"{n // 1024}K" for n in a.lengths) + " |"
    lines = [header, "|" + "---|" * (len(a.lengths) + 1)]
    for task in a.tasks:
        lines.append(f"| {task} | " + " | ".join(f"{table[(task, n)]:.1f}" for n in a.lengths) + " |")
    md = "\n".join(lines)
    print(md)
    if a.out:
        with open(a.out, "w") as f:
            json.dump({"model": a.model, "samples": a.samples, "seed": a.seed, "table_markdown": md,
                       "records": records}, f, indent=1)


if __name__ == "__main__":
    main()
