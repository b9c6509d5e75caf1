#!/usr/bin/env python3
"""L-CiteEval's citation metrics end to end with a local NLI model (standard library only): `mpirun -np N loom_mpi
run` on the tiny-loom L-CiteEval hotpotqa rows of tests/mpi/jobs/lciteeval_nli.yaml with
`judge.nli.model` naming a DeBERTa-v2 classifier directory (tests/fixtures/nli/tiny-deberta-nli, random weights;
upstream's rule: the pipeline label "entailment" is entailed), run by rank 0 after the rows are written.

  lciteeval_nli_local_test.py --loom BIN --job JOB --model DIR --out DIR --np N

1. The run exits 0, prints the NLI pass line of the local classifier with the checks it classified, and every row
   with a sentence gets lciteeval_cite_recall / _precision / _f1 (0-100).
2. A rerun of the same job classifies nothing: the stored labels are reused.
3. `loom_mpi report` without the model reports the stored labels' scores; with `--nli-model tiny-deberta-nli` too.
4. `loom_mpi report --nli-model-dir DIR` on the file of a run without NLI classifies the same number of checks and
   scores the same; a second report classifies nothing.
5. A copy of the classifier whose id2label names its usual arg-max "entailment" (upstream's rule reads the name)
   gets a recall above 0 on the same file; its answers are stored under its own name and the first model's scores
   are unchanged.
6. A model directory whose config.json asks for what the classifier does not implement (conv_kernel_size): the run
   exits 1 naming the key, and its report is still written with the citation metrics not computed.
"""
import argparse
import json
import os
import re
import shutil

from e2e_support import fail, run

METRICS = ("lciteeval_cite_recall", "lciteeval_cite_precision", "lciteeval_cite_f1")
PASS_LINE = re.compile(r"nli tiny-deberta-nli \(local classifier (.+) on cpu\): (\d+) L-CiteEval rows, (\d+) checks "
                       r"reused, (\d+) asked in \d+ rounds? \((\d+) classifications\): (\d+) ok, (\d+) failed")


def judged_of(summary):
    tasks = summary["methods"]["full"]["benchmarks"]["L_CiteEval"]["tasks"]
    return tasks["hotpotqa"].get("judged", {})


def pass_line(proc, what):
    m = PASS_LINE.search(proc.stdout)
    if proc.returncode != 0 or not m:
        fail(f"{what}: no exit 0 with the local NLI pass line", proc)
    return {"reused": int(m.group(3)), "asked": int(m.group(4)), "ok": int(m.group(6)), "failed": int(m.group(7))}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--loom", required=True)
    parser.add_argument("--job", required=True)
    parser.add_argument("--model", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--np", type=int, default=2)
    args = parser.parse_args()
    shutil.rmtree(args.out, ignore_errors=True)
    os.makedirs(args.out)
    model = os.path.abspath(args.model)
    base = ["mpirun", "-np", str(args.np), "--oversubscribe", args.loom, "run", args.job]

    output = os.path.join(args.out, "local.h5")
    cmd = base + ["--output", output, "--set", f"judge.nli.model={model}"]
    first = pass_line(run(cmd), "the run with a local NLI model")
    if first["asked"] == 0 or first["failed"] != 0 or first["ok"] != first["asked"]:
        fail(f"the local classifier should have classified every check once: {first}")
    with open(output[:-3] + ".json") as f:
        summary = json.load(f)
    judged = judged_of(summary)
    rows = summary["rows"]
    for name in METRICS:
        j = judged.get(name)
        if j is None or j["computed"] + j["not_computed"] != rows or j["computed"] == 0:
            fail(f"expected {name} over the {rows} rows (computed where the output has a sentence), got {j}")
        if any("no sentence" not in reason for reason in j["reasons"]):
            fail(f"{name} not computed for another reason than an empty output: {j['reasons']}")
        if not 0 <= j["score"] <= 100:
            fail(f"{name} out of range: {j}")
    scores = [judged[n]["score"] for n in METRICS]
    print(f"  {rows} rows, {judged['lciteeval_cite_recall']['computed']} scored: recall {scores[0]:.2f}, "
          f"precision {scores[1]:.2f}, f1 {scores[2]:.2f}; {first['asked']} checks classified")

    second = pass_line(run(cmd), "the rerun")
    if second["asked"] != 0 or second["reused"] != first["asked"]:
        fail(f"the rerun classified again: {second}")
    print(f"  rerun: {second['reused']} stored labels reused, nothing classified")

    for extra in ([], ["--nli-model", "tiny-deberta-nli"]):
        report = run([args.loom, "report", output, "--json", "--no-write"] + extra)
        stored = judged_of(json.loads(report.stdout))
        if report.returncode != 0 or any(stored[n]["score"] != judged[n]["score"] for n in METRICS):
            fail(f"loom_mpi report {extra} did not report the stored labels' scores", report)
    print("  report: the stored labels' scores, with and without --nli-model")

    plain_out = os.path.join(args.out, "plain.h5")
    plain = run(base + ["--output", plain_out])
    if plain.returncode != 0:
        fail("the run without NLI did not exit 0", plain)
    late = [args.loom, "report", plain_out, "--json", "--nli-model-dir", model]
    graded = run(late)
    late_pass = pass_line(graded, "report --nli-model-dir")
    if late_pass["asked"] != first["asked"]:
        fail(f"report --nli-model-dir classified {late_pass['asked']} checks, the run {first['asked']}")
    late_judged = judged_of(json.loads(graded.stdout[graded.stdout.index("{"):]))
    if any(late_judged[n]["score"] != judged[n]["score"] for n in METRICS):
        fail(f"report --nli-model-dir scored {late_judged}, the run {judged}")
    again = pass_line(run(late), "a second report --nli-model-dir")
    if again["asked"] != 0:
        fail(f"a second report --nli-model-dir classified again: {again}")
    print(f"  report --nli-model-dir on a file without labels: {late_pass['asked']} checks once, same scores")

    # Upstream's rule reads the label's name: a copy of the classifier whose id2label calls its usual arg-max
    # "entailment" (the random tiny model says "contradiction" to most pairs) entails some of the same checks. Its
    # answers are stored under its own name beside the first model's, and each model's scores stay its own.
    swapped = os.path.join(args.out, "tiny-deberta-nli-swapped")
    shutil.copytree(model, swapped)
    with open(os.path.join(swapped, "config.json")) as f:
        config = json.load(f)
    config["id2label"] = {"0": "contradiction", "1": "neutral", "2": "entailment"}
    config["label2id"] = {v: int(k) for k, v in config["id2label"].items()}
    with open(os.path.join(swapped, "config.json"), "w") as f:
        json.dump(config, f)
    other = run([args.loom, "report", plain_out, "--json", "--no-write", "--nli-model-dir", swapped])
    if other.returncode != 0 or "nli tiny-deberta-nli-swapped (local classifier" not in other.stdout:
        fail("report --nli-model-dir with the relabelled copy did not run its pass", other)
    other_judged = judged_of(json.loads(other.stdout[other.stdout.index("{"):]))
    if not other_judged["lciteeval_cite_recall"]["score"] > 0:
        fail(f"the relabelled copy entailed nothing: {other_judged}")
    first_again = run([args.loom, "report", plain_out, "--json", "--no-write", "--nli-model", "tiny-deberta-nli"])
    if any(judged_of(json.loads(first_again.stdout))[n]["score"] != judged[n]["score"] for n in METRICS):
        fail("the first model's stored scores changed after another model's answers were stored", first_again)
    print(f"  relabelled copy: recall {other_judged['lciteeval_cite_recall']['score']:.2f} "
          f"(the label's name decides, as upstream); each model's answers kept apart")

    # A model directory whose files exist but whose config the classifier does not implement: the run stores its
    # rows, says why the NLI pass did not run (file and key), exits 1, and still writes the report, where the
    # citation metrics are not computed (checks not answered), never a number.
    broken = os.path.join(args.out, "broken-nli")
    shutil.copytree(model, broken)
    with open(os.path.join(broken, "config.json")) as f:
        config = json.load(f)
    config["conv_kernel_size"] = 3
    with open(os.path.join(broken, "config.json"), "w") as f:
        json.dump(config, f)
    broken_out = os.path.join(args.out, "broken.h5")
    bad = run(base + ["--output", broken_out, "--set", f"judge.nli.model={broken}"])
    if bad.returncode != 1 or "the NLI pass did not run" not in bad.stderr or "conv_kernel_size" not in bad.stderr:
        fail("a classifier config it cannot run should exit 1 naming conv_kernel_size", bad)
    with open(broken_out[:-3] + ".json") as f:
        broken_judged = judged_of(json.load(f))
    for name in METRICS:
        j = broken_judged.get(name)
        if j is None or j["score"] is not None or "not answered" not in json.dumps(j["reasons"]):
            fail(f"with the NLI pass not run {name} should be not computed, got {j}")
    print("  a config the classifier does not implement: exit 1 naming the key, rows and report kept")
    print("PASS")


if __name__ == "__main__":
    main()
