#!/usr/bin/env python3
"""LongCite (LongBench-Cite) with its judge end to end (standard library only): `mpirun -np N loom_mpi run` on the
tiny model over tests/fixtures/benchmarks/longcite (4 records, one per task), with a loopback judge started here (a
loopback_server.py JsonEndpoint answering /v1/chat/completions: "Need Citation: [[No]]" to upstream's need-citation
prompt, "Rating: [[Fully supported]]" / "Rating: [[Relevant]]" to the support / relevance prompts, and "[[3]]" to the
correctness prompts, "[[8]]" to the few-shot one).

  longcite_judge_test.py --loom BIN --job JOB --out DIR --np N

1. Without a judge: exit 0; no task has a score and the four LongCite judged scores are "not computed: no judge
   configured" for every row.
2. With the judge: exit 0, the judge pass line; every request is one of upstream's prompts with its settings (citation
   prompts: max_tokens 10, stop "Analysis:", temperature 0; correctness: system prompt, max_tokens 1024, temperature 0);
   correctness is upstream's (r-1)/2 = 100 for the QA tasks, (r-1)/4 = 50 for gov_report, r/10 = 80 for
   longbench-chat; citation recall, precision and F1 are computed for every row.
3. A rerun asks nothing; `loom_mpi report` without a judge reports the stored verdicts.
"""
import argparse
import json
import os
import shutil

from e2e_support import fail, run
from loopback_server import JsonEndpoint, chat_completion

TASKS = ("hotpotqa", "multifieldqa", "gov_report", "longbench-chat")
SCORES = ("longcite_citation_f1", "longcite_citation_recall", "longcite_citation_precision", "longcite_correctness")


def judge_answer(body):
    prompt = body["messages"][-1]["content"]
    if "requires citation" in prompt:
        return chat_completion("Need Citation: [[No]] Analysis:")
    if "whether this statement is supported" in prompt:
        return chat_completion("Rating: [[Fully supported]]")
    if "contains some key information" in prompt:
        return chat_completion("Rating: [[Relevant]]")
    if "Below are several assistants' answers" in prompt:
        return chat_completion("[[8]]")
    return chat_completion("Rating: [[3]]")


def tasks_of(summary):
    return summary["methods"]["full"]["benchmarks"]["LongCite"]["tasks"]


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
    for name in TASKS:
        if tasks[name]["score"] is not None:
            fail(f"without a judge, expected no score for {name}, got {tasks[name]}")
        for score in SCORES:
            judged = tasks[name]["judged"][score]
            if judged["score"] is not None or judged["not_computed"] != 1 or \
                    "no judge configured" not in json.dumps(judged["reasons"]):
                fail(f"without a judge, expected {score} not computed for {name}, got {judged}")
    print("  no judge: no task scored, the four LongCite scores not computed (no judge configured)")

    judge = JsonEndpoint("/v1/chat/completions", judge_answer).start()
    url = judge.url
    output = os.path.join(args.out, "judged.h5")
    cmd = mpirun + ["--output", output, "--set", f"judge.base_url={url}", "--set", "judge.model=e2e-judge"]
    first = run(cmd)
    if first.returncode != 0 or "judge e2e-judge at" not in first.stdout:
        fail("the run with a judge did not end with exit 0 and a judge pass line", first)
    asked = len(judge.requests)
    if asked < 4:
        fail(f"expected at least the 4 correctness requests, got {asked}")
    for body in judge.requests:
        messages = body["messages"]
        if body["model"] != "e2e-judge" or body["temperature"] != 0:
            fail(f"unexpected judge request settings {dict(body, messages='...')}")
        if len(messages) == 1:  # auto_scorer.py: need-citation / support / relevance
            if body.get("max_tokens") != 10 or body.get("stop") != ["Analysis:"] or \
                    not messages[0]["content"].startswith("You are an expert in evaluating text quality."):
                fail(f"a citation request is not upstream's: {dict(body, messages='...')}")
        elif messages[0]["content"] != "You're a good assistant at evaluating the quality of texts." or \
                body.get("max_tokens") != 1024:
            fail(f"a correctness request is not upstream's: {body}")
    with open(output[:-3] + ".json") as f:
        tasks = tasks_of(json.load(f))
    expected = {"hotpotqa": 100, "multifieldqa": 100, "gov_report": 50, "longbench-chat": 80}
    for name, value in expected.items():
        judged = tasks[name]["judged"]
        if abs(judged["longcite_correctness"]["score"] - value) > 1e-6:
            fail(f"expected {name} correctness {value}, got {judged['longcite_correctness']}")
        for score in SCORES[:3]:
            if judged[score]["computed"] != 1 or judged[score]["score"] is None:
                fail(f"expected {score} computed for {name}, got {judged[score]}")
        if tasks[name]["score"] is None or abs(tasks[name]["score"] - judged["longcite_citation_f1"]["score"]) > 1e-6:
            fail(f"expected {name}'s score to be its citation F1, got {tasks[name]}")
    print(f"  judged: {asked} requests; correctness " +
          ", ".join(f"{n} {tasks[n]['judged']['longcite_correctness']['score']:.0f}" for n in TASKS) +
          "; citation F1 " + ", ".join(f"{n} {tasks[n]['judged']['longcite_citation_f1']['score']:.1f}" for n in TASKS))

    second = run(cmd)
    if second.returncode != 0 or len(judge.requests) != asked:
        fail(f"the rerun asked the judge again ({len(judge.requests)} requests in all, {asked} before)", second)
    report = run([args.loom, "report", output, "--json", "--no-write"])
    stored = tasks_of(json.loads(report.stdout))
    if report.returncode != 0 or abs(stored["gov_report"]["judged"]["longcite_correctness"]["score"] - 50) > 1e-6:
        fail("loom_mpi report did not report the stored verdicts", report)
    print("  rerun asked nothing; report without a judge reports the stored verdicts")
    judge.stop()
    print("PASS")


if __name__ == "__main__":
    main()
