"""What the end-to-end test scripts share: the environment mpirun needs (root, oversubscribe), running a command with
its output kept, and failing with that output. Standard library only."""
import argparse
import os
import shutil
import subprocess
import sys

ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
           OMPI_MCA_rmaps_base_oversubscribe="1")


def fail(message, result=None):
    if result is not None:
        message += f"\n--- exit {result.returncode}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
    sys.exit("FAIL: " + message)


def run(cmd, timeout=300):
    result = subprocess.run(cmd, env=ENV, capture_output=True, text=True, timeout=timeout)
    print(f"$ {' '.join(cmd)}\n  exit {result.returncode}")
    return result


def job_test_args(default_np):
    """The arguments of a test that runs one job (--loom LOOM_MPI --job JOB.yaml --out DIR [--np N]), with DIR made
    afresh."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--loom", required=True)
    parser.add_argument("--job", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--np", type=int, default=default_np)
    args = parser.parse_args()
    shutil.rmtree(args.out, ignore_errors=True)
    os.makedirs(args.out)
    return args
