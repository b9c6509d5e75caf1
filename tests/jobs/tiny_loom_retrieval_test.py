#!/usr/bin/env python3
"""Runs tests/jobs/tiny_loom_retrieval.yaml with loom_mpi and checks, per (length, depth), NIAH's word-recall score:
full cache >= 80 at every depth (the custom needle is found), streaming_llm@0.75 <= 50 at depth 0 (the evicted
needle is missed, not recalled from memory) and >= 80 at depth 100 (the needle in the recent window is found).

    tiny_loom_retrieval_test.py LOOM_MPI SOURCE_DIR WORK_DIR
"""
import json
import os
import subprocess
import sys

import h5py

loom_mpi, src, work = sys.argv[1:4]
os.makedirs(work, exist_ok=True)
out = os.path.join(work, "retrieval.h5")
for suffix in ("", ".journal", ".lock"):
    if os.path.exists(out + suffix):
        os.remove(out + suffix)
job = os.path.join(src, "tests", "jobs", "tiny_loom_retrieval.yaml")
subprocess.run([loom_mpi, "run", job, "--output", out, "--log-level", "warn"], check=True)
depths = [0, 25, 50, 75, 100]
scores = {}
with h5py.File(out, "r") as f:
    for row in f["metrics"]["sample_scores"][()]:
        key = row["sample_key"].decode()
        _, _, length, index, method = key.split("/", 4)
        scores[(method, int(length), depths[int(index)])] = float(row["score"])
for method in ("full", "streaming_llm@0.75"):
    print(method, " ".join(f"{length}:" + ",".join(f"{scores[(method, length, d)]:.0f}" for d in depths)
                           for length in (1024, 2048, 4096)))
problems = []
for length in (1024, 2048, 4096):
    for d in depths:
        if scores[("full", length, d)] < 80:
            problems.append(f"full cache missed the needle at {length} tokens, depth {d}%")
    if scores[("streaming_llm@0.75", length, 0)] > 50:
        problems.append(f"streaming_llm@0.75 still recalls the evicted needle at {length} tokens, depth 0%")
    if scores[("streaming_llm@0.75", length, 100)] < 80:
        problems.append(f"streaming_llm@0.75 missed the needle in its recent window at {length} tokens")
if problems:
    sys.exit("\n".join(problems))
print(json.dumps({"ok": True}))
