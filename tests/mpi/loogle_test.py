#!/usr/bin/env python3
"""LooGLE end to end: the job (tests/mpi/jobs/loogle.yaml: three tasks in LooGLE's layout, longdep_qa in LOOM-Scope's)
runs under mpirun on the tiny model, stores every row, and the metrics pass scores each task with its LooGLE
scorers: BLEU-1/4, ROUGE-1/2/L and METEOR (with WordNet at /usr/share/wordnet) for QA and summarization, exact and
partial match for cloze. BERTScore is absent from every task.

usage: loogle_test.py --loom LOOM_MPI --job tests/mpi/jobs/loogle.yaml --out DIR [--np N]
Standard library only.
"""
import argparse
import json
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_support import fail, run  # noqa: E402

SIM = ["loogle_bleu1", "loogle_bleu4", "loogle_meteor", "loogle_rouge1", "loogle_rouge2", "loogle_rougel"]
EXPECTED = {  # task -> (rows, metrics)
    "shortdep_qa": (2, SIM),
    "longdep_qa": (2, SIM),
    "longdep_summarization": (1, SIM),
    "shortdep_cloze": (2, ["loogle_cloze_exact", "loogle_cloze_partial"]),
}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--loom", required=True)
    parser.add_argument("--job", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--np", type=int, default=2)
    args = parser.parse_args()
    shutil.rmtree(args.out, ignore_errors=True)
    os.makedirs(args.out)
    results = os.path.join(args.out, "loogle.h5")
    cmd = [args.loom, "run", args.job, "--output", results]
    result = run(["mpirun", "-np", str(args.np), "--oversubscribe"] + cmd if args.np else cmd)
    if result.returncode != 0:
        fail("the LooGLE job did not succeed", result)
    with open(os.path.splitext(results)[0] + ".json") as f:
        summary = json.load(f)
    tasks = summary["methods"]["full"]["benchmarks"]["LooGLE"]["tasks"]
    if sorted(tasks) != sorted(EXPECTED):
        fail(f"expected the LooGLE tasks {sorted(EXPECTED)}, got {sorted(tasks)}")
    for task, (samples, metrics) in EXPECTED.items():
        t = tasks[task]
        if t["samples"] != samples or t["failed"] != 0:
            fail(f"{task}: expected {samples} rows and none failed, got {t['samples']} / {t['failed']} failed")
        if sorted(t["metrics"]) != metrics:
            fail(f"{task}: expected the metrics {metrics}, got {sorted(t['metrics'])}")
        for name, value in t["metrics"].items():
            if not 0 <= value <= 100:
                fail(f"{task} {name}: {value} is not a percentage")
    print("LooGLE end to end: 4 tasks, 7 rows, LooGLE scorers in the metrics pass")


if __name__ == "__main__":
    main()
