"""What the end-to-end test scripts share: the environment mpirun needs (root, oversubscribe), running a command with
its output kept, and failing with that output. Standard library only."""
import os
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
