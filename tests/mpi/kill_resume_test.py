#!/usr/bin/env python3
"""End-to-end and kill-and-resume tests of `loom_mpi run` (stdlib only).

  kill_resume_test.py --loom BIN --check BIN --job JOB --np N --out DIR [--kill none|worker|rank0]

none:   run the job once; it must exit 0, print a score table and the results path, and store every sample once.
worker / rank0: start the job, SIGKILL one process (a rank > 0, or rank 0) as soon as the first rows are stored,
        let mpirun tear the job down, then rerun the same command: it must resume (skip stored rows) and end with
        exactly one row per (sample, method): row count == the count `loom_mpi validate` predicts, no key repeated.
"""
import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import time

ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
           OMPI_MCA_rmaps_base_oversubscribe="1")


def command(args, results):
    base = [args.loom, "run", args.job, "--output", results, "--progress-interval", "1"]
    if args.np == 0:
        return base
    return ["mpirun", "-np", str(args.np), "--oversubscribe"] + base


def expected_rows(args):
    out = subprocess.run([args.loom, "validate", args.job], env=ENV, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"validate failed:\n{out.stdout}\n{out.stderr}")
    match = re.search(r"^(\d+) rows \(", out.stdout, re.M)
    if not match:
        sys.exit(f"no row count in validate output:\n{out.stdout}")
    return int(match.group(1))


def rank_pids(root_pid):
    """{world rank: pid} of the loom_mpi processes below root_pid (read from OMPI_COMM_WORLD_RANK)."""
    ranks = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as f:
                env = f.read().split(b"\0")
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmdline = f.read()
        except OSError:
            continue
        if b"loom_mpi" not in cmdline.split(b"\0")[0]:
            continue
        marker = f"LOOM_TEST_RUN={root_pid}".encode()
        if marker not in env:
            continue
        for item in env:
            if item.startswith(b"OMPI_COMM_WORLD_RANK="):
                ranks[int(item.split(b"=", 1)[1])] = int(entry)
    return ranks


def stored_rows(check, results):
    out = subprocess.run([check, results], env=ENV, capture_output=True, text=True)
    match = re.search(r"rows=(\d+)", out.stdout)
    return int(match.group(1)) if match else 0


def run_and_kill(args, results, victim_rank):
    env = dict(ENV, LOOM_TEST_RUN=str(os.getpid()))
    proc = subprocess.Popen(command(args, results), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, start_new_session=True)
    deadline = time.time() + 300
    killed = False
    journal = results + ".journal"
    while proc.poll() is None and time.time() < deadline:
        if os.path.exists(journal) and os.path.getsize(journal) > 0 and stored_rows(args.check, results) > 0:
            ranks = {0: proc.pid} if args.np == 0 else rank_pids(os.getpid())
            if victim_rank in ranks:
                os.kill(ranks[victim_rank], signal.SIGKILL)
                killed = True
                print(f"killed rank {victim_rank} (pid {ranks[victim_rank]}) after "
                      f"{stored_rows(args.check, results)} stored rows")
                break
        time.sleep(0.2)
    try:
        output, _ = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        output, _ = proc.communicate()
    if not killed:
        sys.exit(f"the job ended before rank {victim_rank} could be killed; make the test job longer\n{output}")
    print(f"first run exit code {proc.returncode} (expected non-zero after SIGKILL)")
    return stored_rows(args.check, results)


def run_to_end(args, results):
    out = subprocess.run(command(args, results), env=ENV, capture_output=True, text=True, timeout=900)
    print(out.stdout[-4000:])
    if out.returncode != 0:
        sys.exit(f"run failed with exit code {out.returncode}:\n{out.stderr[-4000:]}")
    if "results: " not in out.stdout:
        sys.exit("the run did not print the results path")
    return out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--loom", required=True)
    parser.add_argument("--check", required=True)
    parser.add_argument("--job", required=True)
    parser.add_argument("--np", type=int, default=1, help="0: run loom_mpi without mpirun (singleton)")
    parser.add_argument("--out", required=True)
    parser.add_argument("--kill", choices=["none", "worker", "rank0"], default="none")
    args = parser.parse_args()
    shutil.rmtree(args.out, ignore_errors=True)
    os.makedirs(args.out)
    results = os.path.join(args.out, "results.h5")
    rows = expected_rows(args)
    print(f"expecting {rows} rows")
    if args.kill != "none":
        victim = 0 if args.kill == "rank0" else max(1, args.np - 1)
        before = run_and_kill(args, results, victim)
        if before >= rows:
            sys.exit(f"all {rows} rows were stored before the kill; make the test job longer")
        out = run_to_end(args, results)
        if before > 0 and f"{before} already in" not in out.stderr + out.stdout:
            print(f"note: the resume log line did not mention {before} stored rows")
    else:
        run_to_end(args, results)
    check = subprocess.run([args.check, results, str(rows)], env=ENV, capture_output=True, text=True)
    print(check.stdout + check.stderr)
    if check.returncode != 0:
        sys.exit("row count or uniqueness check failed")
    print("ok")


if __name__ == "__main__":
    main()
