#!/usr/bin/env python3
"""A job with `judge:` end to end (standard library only): `mpirun -np N loom_mpi run` on tiny-loom NIAH rows, with a
loopback judge started here (loopback_server.py's JsonEndpoint: /v1/chat/completions answers "Rating: [[7]]", the
requests are kept).

  judge_test.py --loom BIN --job JOB --out DIR --np N

1. The run exits 0, prints the judge pass line, asks the judge once per row, and the JSON summary's NIAH task has
   judged.niah_judge = 70 over every row; the request carried upstream's system message and temperature 0.
2. A rerun of the same job (every row stored) asks the judge nothing: the verdicts are reused from the results file.
3. `loom_mpi report` without a judge reports the stored verdicts (70) too.
"""
import argparse
import json
import os
import shutil

from e2e_support import fail, run
from loopback_server import JsonEndpoint, chat_completion


def judge_answer(body):
    return chat_completion("Matches the reference. Rating: [[7]]")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--loom", required=True)
    parser.add_argument("--job", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--np", type=int, default=2)
    args = parser.parse_args()
    shutil.rmtree(args.out, ignore_errors=True)
    os.makedirs(args.out)
    judge = JsonEndpoint("/v1/chat/completions", judge_answer).start()
    url = judge.url
    output = os.path.join(args.out, "judge.h5")
    cmd = ["mpirun", "-np", str(args.np), "--oversubscribe", args.loom, "run", args.job, "--output", output,
           "--set", f"judge.base_url={url}", "--set", "judge.model=e2e-judge"]

    first = run(cmd)
    if first.returncode != 0 or "judge e2e-judge at" not in first.stdout:
        fail("the run with a judge did not end with exit 0 and a judge pass line", first)
    with open(output[:-3] + ".json") as f:
        summary = json.load(f)
    task = summary["methods"]["full"]["benchmarks"]["NIAH"]["tasks"]
    judged = next(iter(task.values()))["judged"]["niah_judge"]
    rows = summary["rows"]
    if judged["score"] != 70 or judged["computed"] != rows or len(judge.requests) != rows:
        fail(f"expected niah_judge 70 over {rows} rows and {rows} requests, got {judged}, {len(judge.requests)}")
    request = judge.requests[0]
    if request["model"] != "e2e-judge" or request["temperature"] != 0 or \
            request["messages"][0] != {"role": "system", "content": "You are a helpful assistant."}:
        fail(f"unexpected judge request {request}")
    print(f"  niah_judge {judged['score']} over {judged['computed']} rows, {len(judge.requests)} requests")

    second = run(cmd)
    if second.returncode != 0 or len(judge.requests) != rows:
        fail(f"the rerun asked the judge again ({len(judge.requests)} requests in all)", second)
    print(f"  rerun: {len(judge.requests)} requests in all (verdicts reused)")

    report = run([args.loom, "report", output, "--json", "--no-write"])
    stored = next(iter(json.loads(report.stdout)["methods"]["full"]["benchmarks"]["NIAH"]["tasks"].values()))
    if report.returncode != 0 or stored["judged"]["niah_judge"]["score"] != 70:
        fail("loom_mpi report did not report the stored verdicts", report)
    judge.stop()
    print("PASS")


if __name__ == "__main__":
    main()
