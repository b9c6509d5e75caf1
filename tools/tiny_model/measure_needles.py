#!/usr/bin/env python3
"""Measures a model on NIAH with needles it was not trained on, as loom_mpi runs them: for each needle a job
(NIAH, the needle and its question as options, depths 0..100 %) under the full cache and KV-cache compression
methods; prints one Markdown table per method (rows: needle, columns: length; each cell the mean of NIAH's
word-recall score over the depths), the depth-0 score (the needle StreamingLLM evicts first) and how often the
answer holds the needle's value (its last word), which word recall alone blurs: a sentence that repeats the
question's words scores well even when its value is wrong.

    /usr/bin/python3 tools/tiny_model/measure_needles.py --loom build/loom_mpi --model models/tiny-loom \
        --out /tmp/needles [--lengths 1K 2K 4K 8K] [--np 2]

Needs h5py (Debian's python3-h5py). The needles are free-form sentences whose shapes differ from the training
families of tools/tiny_model/needles.py (NIAH's default and two free-form sentences
show the other side: recall from memory, and shapes beyond what it learned).
"""
import argparse
import os
import subprocess

import h5py

# (name, needle, question): NIAH's default; four needles of the trained families with contents training never drew
# (Reykjavik is not among the training cities; the account, the object and the values are new); two free-form
# sentences of shapes never trained.
NEEDLES = [
    ("default (San Francisco)", "The best thing to do in San Francisco is eat a sandwich and sit in Dolores Park on a sunny day.",
     "What is the best thing to do in San Francisco?"),
    ("number (Reykjavik)", "The special magic Reykjavik number is: 5082914.", "What is the special magic Reykjavik number?"),
    ("activity (Reykjavik)", "The best thing to do in Reykjavik is ride a wooden canoe along the river at sunset.",
     "What is the best thing to do in Reykjavik?"),
    ("key (uuid)", "The secret key for the amber-lantern account is 6f1c2d9e-4b7a-4e2f-9c3d-8a5b7e1f0c42.",
     "What is the secret key for the amber-lantern account?"),
    ("password (words)", "The password for the velvet compass is quiet-harbor.", "What is the password for the velvet compass?"),
    ("free-form: soup", "The secret ingredient in grandma's soup is smoked paprika.",
     "What is the secret ingredient in grandma's soup?"),
    ("free-form: lab key", "Dr. Okafor keeps the spare lab key under the microscope.",
     "Where does Dr. Okafor keep the spare lab key?"),
]
DEPTHS = [0, 20, 40, 60, 80, 100]
METHODS = ["full", "{name: snapkv, params: {compression_ratio: 0.75}}",
           "{name: streaming_llm, params: {compression_ratio: 0.75}}"]
LABELS = ["full", "snapkv@0.75", "streaming_llm@0.75"]


def yaml_str(text):
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--loom", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--lengths", nargs="+", default=["1K", "2K", "4K", "8K"])
    ap.add_argument("--np", type=int, default=1)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    table, found = {}, {}
    for i, (name, needle, question) in enumerate(NEEDLES):
        job = os.path.join(a.out, f"needle{i}.yaml")
        with open(job, "w") as f:
            f.write(f"""name: needle{i}
model:
  path: {os.path.abspath(a.model)}
  device: cpu
  max_batch_size: 3
benchmarks:
  - name: NIAH
    lengths: [{", ".join(a.lengths)}]
    options:
      needle: {yaml_str(chr(10) + needle + chr(10))}
      retrieval_question: {yaml_str(question)}
      depths: {DEPTHS}
acceleration: [{", ".join(METHODS)}]
output:
  path: {os.path.join(os.path.abspath(a.out), f"needle{i}.h5")}
resume: false
""")
        cmd = [a.loom, "run", job, "--log-level", "warn"]
        if a.np > 1:
            cmd = ["mpirun", "-np", str(a.np), "--oversubscribe"] + cmd
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        value = needle.rstrip(".").split(" ")[-1].lower()  # the needle's last word: its value
        with h5py.File(os.path.join(a.out, f"needle{i}.h5"), "r") as h:
            for row in h["metrics"]["sample_scores"][()]:
                _, _, length, index, method = row["sample_key"].decode().split("/", 4)
                table[(name, method, int(length), DEPTHS[int(index)])] = float(row["score"])
            for row in h["samples"][()]:
                _, _, length, index, method = row["sample_key"].decode().split("/", 4)
                found[(name, method, int(length), DEPTHS[int(index)])] = value in row["prediction"].decode().lower()
        print(f"done: {name}", flush=True)
    lengths = sorted({k[2] for k in table})
    for label in LABELS:
        print(f"\n{label}: mean over depths 0, 20, ..., 100 %, NIAH word recall")
        print("| needle | " + " | ".join(f"{n // 1024}K" for n in lengths) +
              " | depth 0 % (all lengths) | value in the answer, all cells (depth 0 %) |")
        print("|---|" + "---|" * (len(lengths) + 2))
        for name, _, _ in NEEDLES:
            cells = [sum(table[(name, label, n, d)] for d in DEPTHS) / len(DEPTHS) for n in lengths]
            d0 = sum(table[(name, label, n, 0)] for n in lengths) / len(lengths)
            hits = [found[(name, label, n, d)] for n in lengths for d in DEPTHS]
            hits0 = [found[(name, label, n, 0)] for n in lengths]
            print(f"| {name} | " + " | ".join(f"{c:.0f}" for c in cells) + f" | {d0:.0f} | "
                  f"{100 * sum(hits) / len(hits):.0f} % ({100 * sum(hits0) / len(hits0):.0f} %) |")


if __name__ == "__main__":
    main()
