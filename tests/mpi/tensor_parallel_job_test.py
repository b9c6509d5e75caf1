#!/usr/bin/env python3
"""`loom_mpi run` with tensor-parallel groups, and the KV pool sized for the job's longest row.

usage: tensor_parallel_job_test.py --loom LOOM_MPI --job tests/mpi/jobs/tensor_parallel.yaml --out DIR [--np 4]

Runs `loom_mpi validate --dump-prompts` on the job with one rank per group to learn its longest row (prompt ids +
max_new_tokens), then the job under mpirun with groups of two ranks, and checks: it exits 0; every rank formed a
tensor-parallel group of 2 and made its KV pool for rows of exactly that many tokens (the "prefill workspace" of its
log line), after rank 0 prepared the work; the run's JSON summary holds every row of both methods, none failed.
Standard library only.
"""
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_support import fail, job_test_args, run  # noqa: E402


def main():
    args = job_test_args(default_np=4)
    job_dir = os.path.dirname(os.path.abspath(args.job))

    # The rows, from a copy of the job with one rank per group (validate runs on one rank), its fixture paths made
    # absolute and its own (empty) output, so that no stored row is left out of the dump.
    single = os.path.join(args.out, "single.yaml")
    fixtures = os.path.normpath(os.path.join(job_dir, "..", "..", "fixtures"))
    with open(args.job) as f:
        text = f.read()
    with open(single, "w") as f:
        f.write(text.replace("tensor_parallel: 2", "tensor_parallel: 1").replace("../../fixtures", fixtures)
                .replace("output:\n", f"output:\n  path: {os.path.join(os.path.abspath(args.out), 'none.h5')}\n"))
    prompts = os.path.join(args.out, "prompts.jsonl")
    result = run([args.loom, "validate", single, "--dump-prompts", prompts])
    if result.returncode != 0:
        fail("validate failed", result)
    with open(prompts) as f:
        rows = [json.loads(line) for line in f]
    longest = max(len(r["input_ids"]) + r["max_new_tokens"] for r in rows)

    results = os.path.join(args.out, "tp.h5")
    result = run(["mpirun", "-np", str(args.np), "--oversubscribe", args.loom, "run", args.job, "--output", results])
    if result.returncode != 0:
        fail("the run did not succeed", result)
    log = result.stdout + result.stderr
    groups = re.findall(r"\[rank (\d+)/\d+\] tensor-parallel group of 2", log)
    if sorted(groups) != [str(r) for r in range(args.np)]:
        fail(f"expected every rank in a tensor-parallel group of 2, got ranks {groups}", result)
    pools = re.findall(r"\[rank (\d+)/\d+\] KV cache .*prefill workspace for rows of (\d+) tokens", log)
    if sorted(rank for rank, _ in pools) != [str(r) for r in range(args.np)]:
        fail(f"expected one KV pool per rank, got {pools}", result)
    if any(int(tokens) != longest for _, tokens in pools):
        fail(f"the pools were sized for rows of {sorted(set(t for _, t in pools))} tokens; the longest row has "
             f"{longest}", result)

    with open(os.path.splitext(results)[0] + ".json") as f:
        methods = json.load(f)["methods"]
    per_method = len(rows) // 2
    for method in ("full", "snapkv@0.5"):
        if method not in methods:
            fail(f"no method {method} in the summary: {sorted(methods)}")
        cost = methods[method]["cost"]
        if cost["generated"] != per_method:
            fail(f"{method}: {cost['generated']} rows generated, expected {per_method}: {cost}")
    print(f"PASS tensor_parallel: {args.np} ranks in groups of 2, KV pools sized for the longest row ({longest} "
          f"tokens), {len(rows)} rows")


if __name__ == "__main__":
    main()
