#!/usr/bin/env python3
"""Issue 14 ("Results you can trust") integration tests of `loom_mpi run` (stdlib only).

  trust_test.py --loom BIN --check BIN --job JOB --out DIR [--shim SO] SCENARIO

changed_model       a rerun on the same output with another model (config.json differs) is refused with exit 2,
                    naming the model, old and new, and the way out; the file is left byte for byte as it was.
changed_generation  the same with another generation.max_new_tokens: refused, naming max_new_tokens old and new.
held_output         a run with resume: false on an output that a running job (mpirun -np 2) holds is refused
                    with exit 2 naming the holder's pid; the first job ends with all its rows, nothing moved aside.
failed_rows         a run whose every row fails exits 3 with a summary (how many, the reason); a rerun retries
                    them (exit 0, every row ok, attempts 2); with max_attempts 1 a rerun does not retry (exit 3).
unprepared_sample   a job with one sample whose instruction alone is longer than max_context - max_new_tokens
                    (jobs/overlong.yaml, mpirun -np 2): that sample's rows are stored as failed with the reason,
                    every other row is ok, and the run exits 3.
cli_errors          a bad flag or a missing argument exits 2 (not CLI11's 104-109); --help exits 0.
disk_full           the final checkpoint hits ENOSPC (LD_PRELOAD shim): exit 1, no crash, the message names the
                    path and "No space left on device"; a rerun resumes with every row and nothing to run.
"""
import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time

ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
           OMPI_MCA_rmaps_base_oversubscribe="1")


def fail(message, result=None):
    if result is not None:
        message += f"\n--- exit {result.returncode}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
    sys.exit("FAIL: " + message)


def run(args, extra, np=0, env=None, timeout=300, job=None):
    cmd = [args.loom, "run", job or args.job, "--output", args.results, "--progress-interval", "1"] + extra
    if np:
        cmd = ["mpirun", "-np", str(np), "--oversubscribe"] + cmd
    result = subprocess.run(cmd, env=env or ENV, capture_output=True, text=True, timeout=timeout)
    print(f"$ {' '.join(cmd)}\n  exit {result.returncode}")
    return result


def check_rows(args, path=None):
    """(rows, failed) of a results file, via results_check (journal included; fails on a repeated key)."""
    out = subprocess.run([args.check, path or args.results], env=ENV, capture_output=True, text=True)
    match = re.search(r"rows=(\d+) unique=\d+ duplicates=(\d+) failed=(\d+)", out.stdout)
    if out.returncode != 0 or not match:
        fail("results_check failed", out)
    return int(match.group(1)), int(match.group(3))


def digest(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def expect(condition, message, result=None):
    if not condition:
        fail(message, result)


def first_run(args, extra=()):
    result = run(args, list(extra))
    expect(result.returncode == 0, "the first run did not succeed", result)
    expect("/metrics group was not written" not in result.stdout, "the run's own lock kept out its metrics pass",
           result)
    rows, failed = check_rows(args)
    expect(rows > 0 and failed == 0, f"the first run stored {rows} rows, {failed} failed")
    return rows


def changed_model(args):
    rows = first_run(args)
    before = digest(args.results)
    source = os.path.join(os.path.dirname(args.job), "../../../models/tiny-loom")
    variant = os.path.join(args.out, "tiny-loom-variant")
    os.makedirs(variant)
    for name in os.listdir(source):
        if name != "config.json":
            os.symlink(os.path.abspath(os.path.join(source, name)), os.path.join(variant, name))
    with open(os.path.join(source, "config.json")) as f:
        config = f.read()
    with open(os.path.join(variant, "config.json"), "w") as f:
        f.write(config.rstrip().rstrip("}") + ',\n  "loom_test_variant": 1\n}\n')
    result = run(args, ["--model", variant])
    expect(result.returncode == 2, "a rerun with another model was not refused with exit 2", result)
    for needle in ["model of", "tiny-loom (config.json", "tiny-loom-variant (config.json", "resume: false",
                   "another output path"]:
        expect(needle in result.stderr, f"the refusal does not say {needle!r}", result)
    expect("0 to run" not in result.stdout + result.stderr, "the refused run resumed", result)
    expect(digest(args.results) == before, "the refused run changed the results file")
    expect(check_rows(args) == (rows, 0), "the refused run changed the stored rows")


def changed_generation(args):
    rows = first_run(args)
    before = digest(args.results)
    result = run(args, ["--set", "generation.max_new_tokens=12"])
    expect(result.returncode == 2, "a rerun with another max_new_tokens was not refused with exit 2", result)
    for needle in ["generation of", "stored max_new_tokens=8", "this job max_new_tokens=12", "resume: false"]:
        expect(needle in result.stderr, f"the refusal does not say {needle!r}", result)
    expect(digest(args.results) == before, "the refused run changed the results file")
    # The same settings resume: nothing left to run.
    again = run(args, [])
    expect(again.returncode == 0 and "0 to run" in again.stdout + again.stderr, "an identical rerun did not resume",
           again)
    expect(check_rows(args) == (rows, 0), "the identical rerun changed the stored rows")


def held_output(args):
    job = os.path.join(os.path.dirname(args.job), "trust_long.yaml")
    cmd = ["mpirun", "-np", "2", "--oversubscribe", args.loom, "run", job, "--output", args.results,
           "--progress-interval", "1"]
    print("$ " + " ".join(cmd) + " &")
    first = subprocess.Popen(cmd, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lock = args.results + ".lock"
    deadline = time.time() + 240
    while not (os.path.exists(lock) and os.path.exists(args.results)):
        if first.poll() is not None or time.time() > deadline:
            out, err = first.communicate()
            fail(f"the first job ended (exit {first.returncode}) before it held the output\n{out}\n{err}")
        time.sleep(0.05)
    second = run(args, ["--set", "resume=false"], job=job)
    still_running = first.poll() is None
    out, err = first.communicate(timeout=600)
    print(f"first job: exit {first.returncode}\n{err[-2000:]}")
    expect(still_running, "the first job had ended before the second started: the test proves nothing")
    expect(second.returncode == 2, "the second run (resume: false) on a held output was not refused", second)
    for needle in ["being written by another running job", "pid ", "host ", "nothing was changed"]:
        expect(needle in second.stderr, f"the refusal does not say {needle!r}", second)
    expect(first.returncode == 0, f"the first job failed (exit {first.returncode})\n{out}\n{err}")
    moved = [name for name in os.listdir(args.out) if ".old-" in name]
    expect(not moved, f"files were moved aside: {moved}")
    validate = subprocess.run([args.loom, "validate", job], env=ENV, capture_output=True, text=True)
    match = re.search(r"^(\d+) rows \(", validate.stdout, re.M)
    expect(match is not None, "no row count from validate", validate)
    expect(check_rows(args) == (int(match.group(1)), 0), "the first job's rows are not all in its file")
    # Unheld now: resume: false keeps the old file under a new name and starts over.
    fresh = run(args, ["--set", "resume=false"])
    expect(fresh.returncode == 0, "resume: false on an unheld output failed", fresh)
    moved = [os.path.join(args.out, name) for name in os.listdir(args.out)
             if ".old-" in name and name.endswith(".h5")]
    expect(len(moved) == 1, f"expected one file kept aside, found {moved}")
    expect(check_rows(args, moved[0]) == (int(match.group(1)), 0), "the file kept aside lost rows")


def failed_rows(args):
    tiny_cache = ["--set", "model.kv_cache_memory=4096"]  # bytes: no prompt fits, every row fails
    result = run(args, tiny_cache)
    expect(result.returncode == 3, "a run whose every row failed did not exit 3", result)
    rows, failed = check_rows(args)
    expect(rows > 0 and failed == rows, f"expected every row failed, got {failed} of {rows}")
    for needle in [f"{rows} of {rows} rows failed", "commonest reasons", "KV cache", "rerun the job to retry"]:
        expect(needle in result.stderr, f"the summary does not say {needle!r}", result)
    retry = run(args, [])
    expect(retry.returncode == 0, "the rerun did not retry the failed rows to success", retry)
    expect(f"{rows} to run, of which {rows} failed before" in retry.stdout + retry.stderr,
           "the rerun did not say it retries the failed rows", retry)
    expect(check_rows(args) == (rows, 0), "after the retry not every row is ok")
    # max_attempts: 1: failed rows are kept as they are and the run still exits 3.
    os.remove(args.results)
    once = ["--set", "max_attempts=1"]
    expect(run(args, tiny_cache + once).returncode == 3, "the failing run with max_attempts 1 did not exit 3")
    again = run(args, once)
    expect(again.returncode == 3, "a rerun with exhausted attempts did not exit 3", again)
    expect("0 to run" in again.stdout + again.stderr, "a row past max_attempts was retried", again)
    expect("no longer retried" in again.stderr, "the summary does not say the rows are no longer retried", again)


def unprepared_sample(args):
    job = os.path.join(os.path.dirname(args.job), "overlong.yaml")
    result = run(args, [], np=2, job=job)
    expect(result.returncode == 3, "a run with one unpreparable sample did not exit 3", result)
    rows, failed = check_rows(args)
    expect((rows, failed) == (6, 2), f"expected 6 rows of which 2 failed, got {failed} of {rows}", result)
    reason = "the instruction alone is longer than max_input_tokens"
    expect(reason in result.stderr, "the failure summary does not give the reason", result)
    with open(os.path.splitext(args.results)[0] + ".json") as f:
        failures = json.load(f)["failures"]
    failed_keys = sorted(f["sample_key"] for f in failures)
    expect(failed_keys == ["LEval/coursera/0/1/full", "LEval/coursera/0/1/snapkv@0.5"],
           f"the failed rows are {failed_keys}", result)
    for failure in failures:
        expect(reason in failure["error"] and "model.max_context 512" in failure["error"],
               f"the row's error does not say why: {failure['error']!r}", result)


def cli_errors(args):
    for extra in (["run", args.job, "--no-such-flag"], ["run"], ["report"], ["run", args.job, "--limit", "x"]):
        result = subprocess.run([args.loom] + extra, env=ENV, capture_output=True, text=True)
        print(f"$ loom_mpi {' '.join(extra)}\n  exit {result.returncode}")
        expect(result.returncode == 2, f"`loom_mpi {' '.join(extra)}` did not exit 2", result)
    for extra in (["--help"], ["run", "--help"], ["--version"]):
        result = subprocess.run([args.loom] + extra, env=ENV, capture_output=True, text=True)
        expect(result.returncode == 0, f"`loom_mpi {' '.join(extra)}` did not exit 0", result)


def disk_full(args):
    # Checkpoints of a short job: at open (new file), after the identity check (attributes), at close. The shim
    # lets the first two through and fills the disk in the third, the final one.
    env = dict(ENV, LD_PRELOAD=args.shim, LOOM_TEST_ENOSPC_SUFFIX=".checkpoint.tmp", LOOM_TEST_ENOSPC_WRITES_OK="2")
    result = run(args, [], env=env)
    expect(result.returncode == 1, "a run whose final checkpoint hit a full disk did not exit 1", result)
    for needle in ["No space left on device", args.results + ".checkpoint.tmp", args.results + ".journal",
                   "rerun"]:
        expect(needle in result.stderr, f"the message does not say {needle!r}", result)
    expect("Segmentation" not in result.stderr and "HDF5-DIAG" not in result.stderr, "a crash or HDF5 dump", result)
    expect(not os.path.exists(args.results + ".checkpoint.tmp"), "the partial checkpoint was left behind")
    rows, failed = check_rows(args)
    expect(rows > 0 and failed == 0, f"the rows of the run were not kept ({rows} rows, {failed} failed)")
    again = run(args, [])
    expect(again.returncode == 0 and "0 to run" in again.stdout + again.stderr,
           "the rerun after the disk was freed did not resume with nothing to run", again)
    expect(check_rows(args) == (rows, 0), "the rerun changed the stored rows")


SCENARIOS = {f.__name__: f for f in (changed_model, changed_generation, held_output, failed_rows, unprepared_sample,
                                     cli_errors, disk_full)}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--loom", required=True)
    parser.add_argument("--check", required=True)
    parser.add_argument("--job", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--shim")
    parser.add_argument("scenario", choices=sorted(SCENARIOS))
    args = parser.parse_args()
    args.job = os.path.abspath(args.job)
    shutil.rmtree(args.out, ignore_errors=True)
    os.makedirs(args.out)
    args.out = os.path.abspath(args.out)
    args.results = os.path.join(args.out, "trust.h5")
    SCENARIOS[args.scenario](args)
    print(f"PASS {args.scenario}")


if __name__ == "__main__":
    main()
