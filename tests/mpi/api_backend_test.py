#!/usr/bin/env python3
"""model.backend: openai end to end (stdlib + h5py): a real `loom_mpi serve` on models/tiny-loom, started here.

  api_backend_test.py --loom BIN --python-h5py PY --job JOB --out DIR --np N

1. The job runs locally (mpirun -np N) and through the server (backend openai, same job): every row is ok and the
   predictions, input and output token counts are equal row by row (greedy).
2. With the server stopped, a run on a new output ends (bounded time) with exit 3 and every row failed with the
   reason ("could not be reached"); after the server is started again (on another port), a rerun of the same output
   retries the failed rows: exit 0, every row ok, attempts 2.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import time

from loopback_server import LoomServe

ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
           OMPI_MCA_rmaps_base_oversubscribe="1")
READ_ROWS = r"""
import sys, json, h5py
with h5py.File(sys.argv[1], "r") as f:
    s = f["samples"][()]
    d = lambda v: v.decode("utf-8") if isinstance(v, bytes) else v
    print(json.dumps({d(r["sample_key"]): {"prediction": d(r["prediction"]), "input_tokens": int(r["input_tokens"]),
                      "output_tokens": int(r["output_tokens"]), "status": d(r["status"]), "error": d(r["error"]),
                      "attempts": int(r["attempts"])} for r in s}))
"""


def fail(message, result=None):
    if result is not None:
        message += f"\n--- exit {result.returncode}\n--- stdout\n{result.stdout[-4000:]}\n--- stderr\n{result.stderr[-4000:]}"
    sys.exit("FAIL: " + message)


class Serve(LoomServe):  # its log dropped; stop() fails the test unless the server exits 0 on SIGTERM
    def __init__(self, loom):
        super().__init__(loom, stderr=subprocess.DEVNULL)

    def stop(self):
        code = super().stop()
        if code != 0:
            fail(f"loom_mpi serve exited {code} on SIGTERM")


def run(args, output, extra, timeout=300):
    cmd = ["mpirun", "-np", str(args.np), "--oversubscribe", args.loom, "run", args.job, "--output", output] + extra
    start = time.time()
    result = subprocess.run(cmd, env=ENV, capture_output=True, text=True, timeout=timeout)
    print(f"$ {' '.join(cmd)}\n  exit {result.returncode} in {time.time() - start:.1f} s")
    return result, time.time() - start


def rows(args, path):
    out = subprocess.run([args.python_h5py, "-c", READ_ROWS, path], capture_output=True, text=True)
    if out.returncode != 0:
        fail("reading " + path, out)
    return json.loads(out.stdout)


def api(url, *more):
    return ["--set", "model.backend=openai", "--set", f"model.base_url={url}"] + list(more)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--loom", required=True)
    parser.add_argument("--python-h5py", required=True)
    parser.add_argument("--job", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--np", type=int, default=2)
    args = parser.parse_args()
    shutil.rmtree(args.out, ignore_errors=True)
    os.makedirs(args.out)
    local_h5, api_h5, resume_h5 = (os.path.join(args.out, n) for n in ("local.h5", "api.h5", "resume.h5"))

    result, _ = run(args, local_h5, [])
    if result.returncode != 0:
        fail("the local run failed", result)
    server = Serve(args.loom)
    result, _ = run(args, api_h5, api(server.url))
    if result.returncode != 0:
        fail("the API run failed", result)
    local, remote = rows(args, local_h5), rows(args, api_h5)
    if sorted(local) != sorted(remote) or not local:
        fail(f"different rows: local {sorted(local)} API {sorted(remote)}")
    for key in local:
        for field in ("status", "prediction", "input_tokens", "output_tokens"):
            if local[key][field] != remote[key][field]:
                fail(f"{key}: {field} local {local[key][field]!r} API {remote[key][field]!r}")
    print(f"OK: {len(local)} API rows equal the local engine's")

    server.stop()
    result, seconds = run(args, resume_h5, api(server.url, "--set", "model.timeout_s=5", "--set",
                                               "model.max_retries=1"))
    if result.returncode != 3:
        fail("a run against a stopped server should exit 3 (rows failed)", result)
    dead = rows(args, resume_h5)
    bad = [k for k, r in dead.items() if r["status"] != "failed" or "could not be reached" not in r["error"]]
    if bad or not dead:
        fail(f"rows not failed with the reason: {[(k, dead[k]) for k in bad]}")
    print(f"OK: dead server: {len(dead)} failed rows in {seconds:.1f} s; reason: {next(iter(dead.values()))['error']}")

    server = Serve(args.loom)
    result, _ = run(args, resume_h5, api(server.url))
    server.stop()
    if result.returncode != 0:
        fail("the rerun after the server came back failed", result)
    back = rows(args, resume_h5)
    bad = [k for k, r in back.items() if r["status"] != "ok" or r["attempts"] != 2 or
           r["prediction"] != local[k]["prediction"]]
    if bad or sorted(back) != sorted(local):
        fail(f"rows not retried to the local result: {[(k, back.get(k)) for k in bad]}")
    print(f"OK: rerun retried {len(back)} rows (attempts 2), equal to the local engine's")
    print("1 passed, 0 failed")


if __name__ == "__main__":
    main()
