#!/usr/bin/env python3
"""L-CiteEval's citation metrics end to end (standard library only): `mpirun -np N loom_mpi run` on tiny-loom
L-CiteEval hotpotqa rows (Paul Graham essay excerpts cut just before a footnote marker, which tiny-loom continues
with " [1]..." as it learnt from its essay haystack), with a loopback NLI server started here (loopback_server.py's
JsonEndpoint answering /v1/completions in TRUE's protocol: "1" when the hypothesis and the premise share two or more
words, else "0"; it keeps the requests).

  lciteeval_nli_test.py --loom BIN --job JOB --out DIR --np N

1. Without an NLI endpoint the run exits 0 and lciteeval_cite_recall / _precision / _f1 are not computed, with
   "no NLI model or endpoint configured", never a number.
2. With `judge.nli` (alone: no chat judge) the run exits 0, prints the NLI pass line, every request is TRUE's
   text ("premise: Passage: ... hypothesis: ...") with the model, max_tokens 10 and temperature 0, no check is asked
   twice, and every row with a sentence gets the three metrics (0-100, F1 = the per-row harmonic means' mean).
3. A rerun of the same job asks nothing: the answers are reused from the results file.
4. `loom_mpi report` without the endpoint reports the stored answers' scores too.
5. `loom_mpi report --nli-url` on the first run's file (no answers stored) asks the same checks once and scores the
   same; a second report asks nothing.
"""
import argparse
import json
import os
import re
import shutil

from e2e_support import fail, run
from loopback_server import JsonEndpoint, text_completion

METRICS = ("lciteeval_cite_recall", "lciteeval_cite_precision", "lciteeval_cite_f1")


def nli_answer(body):
    prompt = body.get("prompt", "")
    m = re.match(r"premise: (.*) hypothesis: (.*)$", prompt, re.S)
    words = lambda s: set(re.findall(r"[a-z]+", s.lower())) - {"passage"}
    entailed = bool(m) and len(words(m.group(1)) & words(m.group(2))) >= 2
    return text_completion("1" if entailed else "0")


def judged_of(summary):
    tasks = summary["methods"]["full"]["benchmarks"]["L_CiteEval"]["tasks"]
    return tasks["hotpotqa"].get("judged", {})


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--loom", required=True)
    parser.add_argument("--job", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--np", type=int, default=2)
    args = parser.parse_args()
    shutil.rmtree(args.out, ignore_errors=True)
    os.makedirs(args.out)
    nli = JsonEndpoint("/v1/completions", nli_answer).start()
    url = nli.url
    base = ["mpirun", "-np", str(args.np), "--oversubscribe", args.loom, "run", args.job]

    plain_out = os.path.join(args.out, "plain.h5")
    plain = run(base + ["--output", plain_out])
    if plain.returncode != 0:
        fail("the run without an NLI endpoint did not exit 0", plain)
    with open(plain_out[:-3] + ".json") as f:
        judged = judged_of(json.load(f))
    for name in METRICS:
        j = judged.get(name)
        if j is None or j["score"] is not None or "no NLI model or endpoint configured" not in json.dumps(j["reasons"]):
            fail(f"without an endpoint {name} should be not computed with the reason, got {j}")
    print("  no endpoint: the citation metrics are not computed, with the reason")

    output = os.path.join(args.out, "nli.h5")
    cmd = base + ["--output", output, "--set", f"judge.nli.base_url={url}", "--set", "judge.nli.model=e2e-nli"]
    first = run(cmd)
    if first.returncode != 0 or "nli e2e-nli at" not in first.stdout:
        fail("the run with an NLI endpoint did not end with exit 0 and an NLI pass line", first)
    with open(output[:-3] + ".json") as f:
        summary = json.load(f)
    judged = judged_of(summary)
    rows = summary["rows"]
    prompts = [r["prompt"] for r in nli.requests]
    if not prompts:  # the fixture's prompts end before a footnote marker, which tiny-loom copies (" [1]...")
        fail("no NLI request: the tiny model's outputs cite no passage")
    if len(set(prompts)) != len(prompts):
        fail(f"a check was asked twice: {len(prompts)} requests, {len(set(prompts))} distinct")
    for r in nli.requests:
        if r["model"] != "e2e-nli" or r["max_tokens"] != 10 or r["temperature"] != 0 or \
                not r["prompt"].startswith("premise: Passage: ") or " hypothesis: " not in r["prompt"]:
            fail(f"unexpected NLI request {r}")
    for name in METRICS:
        j = judged.get(name)
        if j is None or j["computed"] + j["not_computed"] != rows or j["computed"] == 0:
            fail(f"expected {name} over the {rows} rows (computed where the output has a sentence), got {j}")
        if any("no sentence" not in reason for reason in j["reasons"]):
            fail(f"{name} not computed for another reason than an empty output: {j['reasons']}")
        if not 0 <= j["score"] <= 100:
            fail(f"{name} out of range: {j}")
    asked = len(nli.requests)
    scores = [judged[n]["score"] for n in METRICS]
    print(f"  {rows} rows, {judged['lciteeval_cite_recall']['computed']} scored: recall {scores[0]:.2f}, "
          f"precision {scores[1]:.2f}, f1 {scores[2]:.2f}; {asked} NLI requests")

    second = run(cmd)
    if second.returncode != 0 or len(nli.requests) != asked:
        fail(f"the rerun asked the NLI endpoint again ({len(nli.requests)} requests in all)", second)
    print(f"  rerun: {len(nli.requests)} requests in all (answers reused)")

    report = run([args.loom, "report", output, "--json", "--no-write"])
    stored = judged_of(json.loads(report.stdout))
    if report.returncode != 0 or any(stored[n]["score"] != judged[n]["score"] for n in METRICS):
        fail("loom_mpi report did not report the stored answers' scores", report)
    # `loom_mpi report --nli-url` on the file of the run without an endpoint (the same greedy outputs): it asks the
    # same checks once, scores as the run did, and asks nothing the second time.
    before = len(nli.requests)
    late = [args.loom, "report", plain_out, "--json", "--nli-url", url, "--nli-model", "e2e-nli"]
    graded = run(late)
    if graded.returncode != 0 or len(nli.requests) - before != asked:
        fail(f"report --nli-url asked {len(nli.requests) - before} checks, expected {asked}", graded)
    late_judged = judged_of(json.loads(graded.stdout[graded.stdout.index("{"):]))
    if any(late_judged[n]["score"] != judged[n]["score"] for n in METRICS):
        fail(f"report --nli-url scored {late_judged}, the run {judged}")
    again = run(late)
    if again.returncode != 0 or len(nli.requests) - before != asked:
        fail("a second report --nli-url asked again", again)
    print(f"  report --nli-url on the file without answers: {asked} checks asked once, same scores")
    nli.stop()
    print("PASS")


if __name__ == "__main__":
    main()
