#!/usr/bin/env python3
"""A sweep's methods share one prefill per prompt, and the results file and the report say so (prefill_shared_by).

usage: shared_prefill_test.py --loom LOOM_MPI --job tests/mpi/jobs/shared_prefill.yaml --out DIR [--np N]

Runs the job (two NIAH prompts under full and SnapKV, a batch of 4, so each prompt's two methods run together),
then checks: the run's JSON summary gives every method prefill_shared_by 2 (the mean over its rows), and
`loom_mpi report` of the written file, which reads the rows back from the HDF5 file, prints the same figure.
Standard library only.
"""
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_support import fail, job_test_args, run  # noqa: E402


def main():
    args = job_test_args(default_np=2)
    results = os.path.join(args.out, "shared.h5")

    cmd = [args.loom, "run", args.job, "--output", results]
    if args.np:
        cmd = ["mpirun", "-np", str(args.np), "--oversubscribe"] + cmd
    result = run(cmd)
    if result.returncode != 0:
        fail("the run did not succeed", result)

    with open(os.path.splitext(results)[0] + ".json") as f:
        methods = json.load(f)["methods"]
    if sorted(methods) != ["full", "snapkv@0.5"]:
        fail(f"unexpected methods {sorted(methods)}")
    for method, m in methods.items():
        cost = m["cost"]
        if cost["generated"] != 2 or cost["prefill_shared_by"] != 2:
            fail(f"{method}: expected 2 rows that each shared their prefill with 1 other method, got {cost}")

    report = run([args.loom, "report", results, "--no-write", "--by", "method"])
    if report.returncode != 0:
        fail("loom_mpi report failed", report)
    line = re.search(r"^prefill shared by +(\S+) +(\S+)\s*$", report.stdout, re.MULTILINE)
    if not line or line.groups() != ("2.00", "2.00"):
        fail("the report's cost table has no 'prefill shared by' row of 2.00 for both methods", report)
    print("PASS shared_prefill: every row's prefill was shared by 2 methods, in the summary and the report")


if __name__ == "__main__":
    main()
