#!/usr/bin/env python3
"""The embedded model measures retrieval rather than recalling a memorised needle. Runs with loom_mpi, at 1K-4K
tokens and depths 0/25/50/75/100 %, under the full cache and StreamingLLM at compression 0.75 (which keeps 4 sink
tokens and the most recent quarter, so it evicts a needle at depth 0 % and keeps one at 100 %):
  1. tests/jobs/tiny_loom_retrieval.yaml, a custom needle (a town and a number training never drew): with the full
     cache every answer holds the number; with StreamingLLM the answer at depth 0 % does not, at 100 % it does.
  2. the same grid with NIAH's default San Francisco needle (which the first training round had memorised): full
     cache NIAH score 100 everywhere; with the needle evicted the score drops to 60 or less (the memorised sentence
     is no longer recalled), at 100 % it stays 100.

    tiny_loom_retrieval_test.py LOOM_MPI SOURCE_DIR WORK_DIR
"""
import os
import re
import subprocess
import sys

import h5py

loom_mpi, src, work = sys.argv[1:4]
os.makedirs(work, exist_ok=True)
DEPTHS = [0, 25, 50, 75, 100]
LENGTHS = (1024, 2048, 4096)
STREAMING = "streaming_llm@0.75"


def run(job_text, name):
    job = os.path.join(work, name + ".yaml")
    with open(job, "w") as f:
        f.write(job_text.replace("../../models/tiny-loom", os.path.join(src, "models", "tiny-loom")))
    out = os.path.join(work, name + ".h5")
    subprocess.run([loom_mpi, "run", job, "--output", out, "--set", "resume=false", "--log-level", "warn"],
                   check=True, stdout=subprocess.DEVNULL)
    rows = {}
    with h5py.File(out, "r") as f:
        scores = {r["sample_key"].decode(): float(r["score"]) for r in f["metrics"]["sample_scores"][()]}
        for r in f["samples"][()]:
            key = r["sample_key"].decode()
            _, _, length, index, method = key.split("/", 4)
            rows[(method, int(length), DEPTHS[int(index)])] = (r["prediction"].decode(), scores[key])
    for method in ("full", STREAMING):
        print(name, method, " ".join(f"{n}:" + ",".join(f"{rows[(method, n, d)][1]:.0f}" for d in DEPTHS)
                                     for n in LENGTHS))
    return rows


with open(os.path.join(src, "tests", "jobs", "tiny_loom_retrieval.yaml")) as f:
    custom_job = f.read()
default_job = re.sub(r'      needle: .*\n      retrieval_question: .*\n', "", custom_job)
problems = []
custom = run(custom_job, "custom")
for n in LENGTHS:
    for d in DEPTHS:
        if "5082914" not in custom[("full", n, d)][0]:
            problems.append(f"custom needle: the full cache missed the number at {n} tokens, depth {d}%")
    if "5082914" in custom[(STREAMING, n, 0)][0]:
        problems.append(f"custom needle: {STREAMING} still answers the evicted number at {n} tokens, depth 0%")
    if "5082914" not in custom[(STREAMING, n, 100)][0]:
        problems.append(f"custom needle: {STREAMING} missed the number in its recent window at {n} tokens")
default = run(default_job, "default")
for n in LENGTHS:
    for d in DEPTHS:
        if default[("full", n, d)][1] < 100:
            problems.append(f"default needle: the full cache scored {default[('full', n, d)][1]:.0f} at {n}, {d}%")
    if default[(STREAMING, n, 0)][1] > 60:
        problems.append(f"default needle: {STREAMING} scored {default[(STREAMING, n, 0)][1]:.0f} with the needle "
                        f"evicted at {n} tokens (recalled from memory?)")
    if default[(STREAMING, n, 100)][1] < 100:
        problems.append(f"default needle: {STREAMING} missed the needle in its recent window at {n} tokens")
if problems:
    sys.exit("\n".join(problems))
print("tiny-loom retrieval: ok")
