#!/usr/bin/env python3
"""LongBench v2 with chain of thought (options.cot: true, pred.py --cot) end to end under mpirun.

usage: cot_test.py --loom LOOM_MPI --check RESULTS_CHECK --job tests/mpi/jobs/longbench_v2_cot.yaml --out DIR [--np N]

1. Partial results: runs the job with --limit 1 (one record per task), then again without the limit. The rerun must
   resume: the rows of the first run are kept as they are (same finished_unix, first output and prediction), only
   the others run.
2. Every row is ok and holds both outputs: first_output (the chain of thought) and prediction (the answer
   generation's output).
3. The rows are scored: the JSON summary has LongBench_v2's two tasks under both methods with the
   longbench_v2_accuracy metric, over the six rows each method generated.
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

TASKS = ["longbench_v2", "longbench_v2_no_context"]
METHODS = ["full", "snapkv@0.5,16"]


def mpi(args, cmd):
    return ["mpirun", "-np", str(args.np), "--oversubscribe"] + cmd if args.np else cmd


def rows_of(args, results, expected):
    result = run([args.check, results, str(expected), "--rows"])
    if result.returncode != 0:
        fail(f"results_check: expected {expected} rows, each once", result)
    rows = {}
    for line in result.stdout.splitlines():
        if line.startswith("{"):
            row = json.loads(line)
            rows[row["sample_key"]] = row
    return rows


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--loom", required=True)
    parser.add_argument("--check", required=True)
    parser.add_argument("--job", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--np", type=int, default=2)
    args = parser.parse_args()
    shutil.rmtree(args.out, ignore_errors=True)
    os.makedirs(args.out)
    results = os.path.join(args.out, "cot.h5")

    first = run(mpi(args, [args.loom, "run", args.job, "--output", results, "--limit", "1"]))
    if first.returncode != 0:
        fail("the first (limited) run did not succeed", first)
    before = rows_of(args, results, len(TASKS) * len(METHODS))

    rerun = run(mpi(args, [args.loom, "run", args.job, "--output", results]))
    if rerun.returncode != 0:
        fail("the full rerun did not succeed", rerun)
    if not re.search(r"= 12 rows; 4 already in .*; 8 to run", rerun.stdout + rerun.stderr):
        fail("the rerun must keep the 4 finished rows and run the 8 others", rerun)
    after = rows_of(args, results, 3 * len(TASKS) * len(METHODS))
    for key, row in before.items():
        if after.get(key) != row:
            fail(f"the rerun changed the finished row {key}: {row} -> {after.get(key)}")

    for key, row in after.items():
        if row["status"] != "ok":
            fail(f"row {key} failed: {row['error']}")
        if not row["first_output"].strip():
            fail(f"row {key} has no chain of thought (first_output): {row}")
        if not row["prediction"]:
            fail(f"row {key} has no answer output (prediction): {row}")
        if row["first_output"] == row["prediction"]:
            fail(f"row {key}: the prediction must be the second generation's output, not the first's: {row}")

    with open(os.path.splitext(results)[0] + ".json") as f:
        summary = json.load(f)
    text = json.dumps(summary)
    methods = summary["methods"]
    if sorted(methods) != METHODS:
        fail(f"expected the methods {METHODS} in the summary, got {sorted(methods)}")
    for method, m in methods.items():
        if m["cost"]["generated"] != 6:
            fail(f"{method}: expected 6 scored rows, got {m['cost']}")
    for method, m in methods.items():
        tasks = m["benchmarks"]["LongBench_v2"]["tasks"]
        for task in TASKS:
            t = tasks.get(task)
            if not t or t["samples"] != 3 or t["failed"] != 0 or "longbench_v2_accuracy" not in t["metrics"]:
                fail(f"{method}: {task} must be scored by longbench_v2_accuracy over 3 rows: {t} ({text[:2000]})")
    print("PASS cot: both generations stored and scored for every row; the rerun kept the finished rows")


if __name__ == "__main__":
    main()
