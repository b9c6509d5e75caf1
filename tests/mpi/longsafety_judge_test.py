#!/usr/bin/env python3
"""LongSafety with its multi-agent judge end to end (standard library only): `mpirun -np N loom_mpi run` on the
tiny model over tests/fixtures/benchmarks/longsafety (3 records x 2 prompt orders), with a loopback judge started
here (a loopback_server.py JsonEndpoint answering /v1/chat/completions: the risk analysis "RISKS", the context
summary "SUMMARY", and the judgment "1" (unsafe) for the record whose instruction asks for home addresses, else "0").

  longsafety_judge_test.py --loom BIN --job JOB --out DIR --np N

1. Without a judge: exit 0; both tasks have no score (null) and longsafety_safety is "not computed: no judge
   configured" for every row.
2. With the judge: exit 0, the judge pass line, three requests per row (upstream's chain), temperature 0 and no
   max_tokens, the judgment prompt carrying upstream's swapped [Environment Summary]/[Risks]; each task's score and
   longsafety_safety are 100 * 2/3 (one unsafe record of three).
3. A rerun asks nothing; `loom_mpi report` without a judge reports the stored verdicts.
"""
import argparse
import json
import os
import shutil

from e2e_support import fail, run
from loopback_server import JsonEndpoint, chat_completion


def judge_answer(body):
    prompt = body["messages"][-1]["content"]
    if prompt.startswith("You are a Risk Analyzer"):
        return chat_completion("RISKS")
    if prompt.startswith("You are an environment summarizer"):
        return chat_completion("SUMMARY")
    return chat_completion("1" if "home addresses" in prompt else "0")


def tasks_of(summary):
    return summary["methods"]["full"]["benchmarks"]["LongSafety"]["tasks"]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--loom", required=True)
    parser.add_argument("--job", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--np", type=int, default=2)
    args = parser.parse_args()
    shutil.rmtree(args.out, ignore_errors=True)
    os.makedirs(args.out)
    mpirun = ["mpirun", "-np", str(args.np), "--oversubscribe", args.loom, "run", args.job]

    bare = os.path.join(args.out, "bare.h5")
    result = run(mpirun + ["--output", bare])
    if result.returncode != 0:
        fail("the run without a judge failed", result)
    with open(bare[:-3] + ".json") as f:
        tasks = tasks_of(json.load(f))
    for name in ("longsafety_front", "longsafety_end"):
        judged = tasks[name]["judged"]["longsafety_safety"]
        if tasks[name]["score"] is not None or judged["score"] is not None or judged["not_computed"] != 3 or \
                "no judge configured" not in json.dumps(judged["reasons"]):
            fail(f"without a judge, expected no score and 'not computed' for {name}, got {tasks[name]}")
    csv = run([args.loom, "report", bare, "--format", "csv", "--no-write"])
    if csv.returncode != 0 or "task,full,LongSafety,longsafety_front,Specialization,,,3,0" not in csv.stdout:
        fail("the CSV export of the unjudged run does not leave the task score empty", csv)
    print("  no judge: both tasks unscored (empty in CSV), longsafety_safety not computed (no judge configured)")

    judge = JsonEndpoint("/v1/chat/completions", judge_answer).start()
    url = judge.url
    output = os.path.join(args.out, "judged.h5")
    cmd = mpirun + ["--output", output, "--set", f"judge.base_url={url}", "--set", "judge.model=e2e-judge"]
    first = run(cmd)
    if first.returncode != 0 or "judge e2e-judge at" not in first.stdout:
        fail("the run with a judge did not end with exit 0 and a judge pass line", first)
    with open(output[:-3] + ".json") as f:
        tasks = tasks_of(json.load(f))
    if len(judge.requests) != 18:
        fail(f"expected 3 requests for each of 6 rows, got {len(judge.requests)}")
    for body in judge.requests:
        if body["model"] != "e2e-judge" or body["temperature"] != 0 or "max_tokens" in body:
            fail(f"unexpected judge request settings {dict(body, messages='...')}")
    judgments = [b["messages"][0]["content"] for b in judge.requests
                 if b["messages"][0]["content"].startswith("You are a Safety Judge")]
    if len(judgments) != 6 or not all("[Environment Summary]: RISKS\n\n" in j and "[Risks]: SUMMARY\n\n" in j
                                      for j in judgments):
        fail("the judgment prompts do not carry upstream's [Environment Summary] / [Risks] order")
    for name in ("longsafety_front", "longsafety_end"):
        score, judged = tasks[name]["score"], tasks[name]["judged"]["longsafety_safety"]
        if abs(score - 200 / 3) > 1e-6 or abs(judged["score"] - 200 / 3) > 1e-6 or judged["computed"] != 3:
            fail(f"expected {name} safety rate 66.67 over 3 rows, got {tasks[name]}")
    groups = tasks["longsafety_front"]["judged"]["longsafety_safety"]["groups"]["safety_type"]
    if groups.get("Privacy & Property", {}).get("score") != 0 or groups.get("Bias", {}).get("score") != 100:
        fail(f"expected the per-safety-type rates Privacy & Property 0 and Bias 100, got {groups}")
    with open(output[:-3] + ".json") as f:
        headline = json.load(f)["methods"]["full"]["benchmarks"]["LongSafety"]["judged_instances"]["longsafety_safety"]
    if abs(headline["score"] - 200 / 3) > 1e-6 or headline["instances"] != 3 or headline["incomplete"] != 0:
        fail(f"expected upstream's safety_rate 66.67 over 3 instances, got {headline}")
    print(f"  judged: {len(judge.requests)} requests, safety rate front "
          f"{tasks['longsafety_front']['score']:.2f}, end {tasks['longsafety_end']['score']:.2f}")

    second = run(cmd)
    if second.returncode != 0 or len(judge.requests) != 18:
        fail(f"the rerun asked the judge again ({len(judge.requests)} requests in all)", second)
    report = run([args.loom, "report", output, "--json", "--no-write"])
    stored = tasks_of(json.loads(report.stdout))
    if report.returncode != 0 or abs(stored["longsafety_end"]["score"] - 200 / 3) > 1e-6:
        fail("loom_mpi report did not report the stored verdicts", report)
    print("  rerun asked nothing; report without a judge reports the stored verdicts")
    judge.stop()
    print("PASS")


if __name__ == "__main__":
    main()
