#!/usr/bin/env python3
"""query_aware: false end to end: a sweep with both modes runs under mpirun, and a benchmark without a separable
question is refused before any work.

usage: query_agnostic_test.py --loom LOOM_MPI --job tests/mpi/jobs/query_agnostic.yaml
                              --refused tests/mpi/jobs/query_agnostic_refused.yaml --out DIR [--np N]

1. Runs the job (RULER and LongBench on the tiny Llama; full and SnapKV, each query-aware and question-agnostic,
   and compactor and kvzip question-agnostic)
   and checks that every method of the sweep has its 5 rows, none failed (exit 0), with the `+agnostic` labels
   for the question-agnostic methods, and that a rerun resumes (nothing left to run: the question-agnostic rows
   keep their fingerprints).
2. `loom_mpi validate` and `mpirun ... run` of the NIAH job with query_aware: false both exit 2 with the error naming
   the job's query_aware key.
Standard library only.
"""
import argparse
import json
import os
import re
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_support import fail, run  # noqa: E402
METHODS = ["compactor@64,0.5+agnostic", "full+agnostic", "full-aware", "kvzip@256,0.5+agnostic", "snapkv@0.5,16",
           "snapkv@0.5,16+agnostic"]


def mpi(args, cmd):
    return ["mpirun", "-np", str(args.np), "--oversubscribe"] + cmd if args.np else cmd


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--loom", required=True)
    parser.add_argument("--job", required=True)
    parser.add_argument("--refused", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--np", type=int, default=2)
    args = parser.parse_args()
    shutil.rmtree(args.out, ignore_errors=True)
    os.makedirs(args.out)
    results = os.path.join(args.out, "agnostic.h5")

    result = run(mpi(args, [args.loom, "run", args.job, "--output", results]))
    if result.returncode != 0:
        fail("the run did not succeed", result)
    with open(os.path.splitext(results)[0] + ".json") as f:
        methods = json.load(f)["methods"]
    if sorted(methods) != METHODS:
        fail(f"expected the methods {METHODS}, got {sorted(methods)}")
    for method, m in methods.items():
        cost = m["cost"]
        if cost["generated"] != 5:
            fail(f"{method}: expected 5 generated rows, got {cost}")
    rerun = run(mpi(args, [args.loom, "run", args.job, "--output", results]))
    if rerun.returncode != 0:
        fail("the rerun did not succeed", rerun)
    text = rerun.stdout + rerun.stderr
    if not re.search(r"= 30 rows; 30 already in .*; 0 to run", text):
        fail("the rerun must find all 30 rows stored under their fingerprints", rerun)

    for cmd in ([args.loom, "validate", args.refused],
                mpi(args, [args.loom, "run", args.refused, "--output", os.path.join(args.out, "refused.h5")])):
        refused = run(cmd)
        if refused.returncode != 2:
            fail("a query_aware: false job on NIAH must be refused with exit 2", refused)
        message = refused.stdout + refused.stderr
        if "query_aware" not in message or "NIAH" not in message:
            fail("the refusal must name the query_aware key and the benchmark", refused)
    print("PASS query_agnostic: both modes ran in one sweep; a benchmark without a separable question is refused")


if __name__ == "__main__":
    main()
