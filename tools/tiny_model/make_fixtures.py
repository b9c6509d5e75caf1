"""Write tests/fixtures/tiny_model/greedy.json: transformers' greedy outputs of the tiny model for a few short
prompts, for the engine's parity test (loom_mpi must produce the same token ids).

Contract: each case holds the raw prompt text (prompt + answer_prefix, fed as BOS + text, no chat template), its
token ids from tokenizer.json, transformers' greedy continuation ids (fp32, CPU, stops at EOS or max_new_tokens)
and their decoded text, and the top-5 (id, logit) of the last prompt position.

    python3 tools/tiny_model/make_fixtures.py --model models/tiny-loom \
        --essays data/niah/PaulGrahamEssays --out tests/fixtures/tiny_model/greedy.json
"""
import argparse
import json
import os
import random
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tasks  # noqa: E402

CASES = [("niah_single_1", 12), ("niah_single_2", 250), ("niah_single_3", 200), ("niah_multikey_2", 20),
         ("niah_multivalue", 220), ("gkamradt", 200)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--essays", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--max_new", type=int, default=32)
    a = ap.parse_args()
    from tokenizers import Tokenizer
    from transformers import AutoModelForCausalLM
    torch.manual_seed(0)
    tok = Tokenizer.from_file(os.path.join(a.model, "tokenizer.json"))
    model = AutoModelForCausalLM.from_pretrained(a.model).float().eval()  # fp32 as stored
    eos = tok.token_to_id("<|end_of_text|>")
    src = tasks.Sources(a.essays)
    rng = random.Random(7)
    prompts = []
    for task, units in CASES:
        s = tasks.make_task(rng, src, task, units, random_start=False)
        prompts.append((task, s.prompt + s.answer_prefix))
    prompts.append(("plain_text", "The grass is green. The sky is blue. The sun is"))
    cases = []
    for name, text in prompts:
        ids = tok.encode(text).ids  # post-processor prepends <|begin_of_text|>
        x = torch.tensor([ids])
        with torch.inference_mode():
            last = model(input_ids=x).logits[0, -1]
            out = model.generate(x, attention_mask=torch.ones_like(x), max_new_tokens=a.max_new, do_sample=False,
                                 eos_token_id=eos, pad_token_id=eos)
        gen = out[0, len(ids):].tolist()
        top = torch.topk(last, 5)
        cases.append({"name": name, "prompt": text, "prompt_ids": ids, "output_ids": gen,
                      "output_text": tok.decode([g for g in gen if g != eos]),
                      "last_logits_top5": [[int(i), float(v)] for v, i in zip(top.values, top.indices)]})
        print(name, len(ids), repr(cases[-1]["output_text"]))
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    with open(a.out, "w") as f:
        json.dump({"model": "models/tiny-loom", "dtype": "float32", "max_new_tokens": a.max_new, "eos_token_id": eos,
                   "generator": "tools/tiny_model/make_fixtures.py (transformers greedy, CPU)", "cases": cases}, f,
                  indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
