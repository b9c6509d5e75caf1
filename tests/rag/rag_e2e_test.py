#!/usr/bin/env python3
"""`rag: bm25` end to end under mpirun (docs/rag.md).

usage: rag_e2e_test.py --loom LOOM_MPI --rows RAG_ROWS --out DIR [--np N]   (run from the repository root)

1. Runs tests/rag/jobs/rag_bm25.yaml (LongBench hotpotqa on the tiny model, BM25, 2 chunks of <= 16 tokens) under
   mpirun -np N: it succeeds, every row is ok, and each row's metadata.rag holds the chunk ids and chunk count that
   the Python reference retrieves (tests/fixtures/rag/e2e_expected.json, from tools/fixtures/make_rag_fixtures.py).
2. `loom_mpi validate --dump-prompts` of the job and of the same job without `rag:`: each prompt is shorter with
   retrieval.
3. `loom_mpi validate` of tests/rag/jobs/rag_refused.yaml (RULER, which has no retrieval context) exits 2 and names
   the key `rag`.
4. tests/rag/jobs/rag_embedding.yaml against tests/rag/embedding_server.py (an OpenAI-compatible /v1/embeddings
   test double over loopback, started here): every row ok, keeping the chunk that holds the answer; then with the
   server stopped: exit 3, every row failed with the retrieval's reason.
Standard library only.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "mpi"))
from e2e_support import fail, run  # noqa: E402
JOB = os.path.join("tests", "rag", "jobs", "rag_bm25.yaml")
REFUSED = os.path.join("tests", "rag", "jobs", "rag_refused.yaml")
EMBEDDING = os.path.join("tests", "rag", "jobs", "rag_embedding.yaml")
SERVER = os.path.join("tests", "rag", "embedding_server.py")
EXPECTED = os.path.join("tests", "fixtures", "rag", "e2e_expected.json")


def prompt_lengths(loom, job, out):
    result = run([loom, "validate", job, "--dump-prompts", out])
    if result.returncode != 0:
        fail(f"validate {job} failed", result)
    with open(out) as f:
        return {json.loads(line)["sample_key"]: len(json.loads(line)["input_ids"]) for line in f}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--loom", required=True)
    parser.add_argument("--rows", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--np", type=int, default=2)
    args = parser.parse_args()
    shutil.rmtree(args.out, ignore_errors=True)
    os.makedirs(args.out)
    with open(EXPECTED) as f:
        expected = json.load(f)

    results = os.path.join(args.out, "rag.h5")
    cmd = [args.loom, "run", JOB, "--output", results]
    if args.np:
        cmd = ["mpirun", "-np", str(args.np), "--oversubscribe"] + cmd
    result = run(cmd)
    if result.returncode != 0:
        fail("the run with rag: bm25 did not succeed", result)
    rows = run([args.rows, results])
    if rows.returncode != 0:
        fail("rag_rows could not read the results", rows)
    rows = [json.loads(line) for line in rows.stdout.splitlines() if line.strip()]
    if len(rows) != len(expected):
        fail(f"expected {len(expected)} rows, got {len(rows)}")
    for row in rows:
        if row["status"] != "ok":
            fail(f"row {row['sample_key']} failed: {row['error']}")
        want = expected[row["sample_id"]]
        got = row["metadata"].get("rag")
        if got != {"method": "bm25", "chunk_ids": want["chunk_ids"], "total_chunks": want["total_chunks"]}:
            fail(f"row {row['sample_key']}: metadata.rag {got}, expected chunk ids {want['chunk_ids']} of "
                 f"{want['total_chunks']}")
    print(f"PASS run: {len(rows)} rows, each with the reference's retrieved chunk ids")

    # The same job without rag: (absolute paths, so it can live in the output folder).
    root = os.getcwd()
    with open(JOB) as f:
        text = f.read()
    plain_text = text.split("\nrag:\n")[0] + "\ngeneration:" + text.split("\ngeneration:")[1]
    plain_text = plain_text.replace("../../../models/tiny-loom", os.path.join(root, "models", "tiny-loom"))
    plain_text = plain_text.replace("../../fixtures/benchmarks/rag", os.path.join(root, "tests", "fixtures",
                                                                                  "benchmarks", "rag"))
    plain_job = os.path.join(args.out, "plain.yaml")
    with open(plain_job, "w") as f:
        f.write(plain_text)
    with_rag = prompt_lengths(args.loom, JOB, os.path.join(args.out, "rag_prompts.jsonl"))
    without = prompt_lengths(args.loom, plain_job, os.path.join(args.out, "plain_prompts.jsonl"))
    if sorted(with_rag) != sorted(without) or not with_rag:
        fail(f"the two validations list different samples: {sorted(with_rag)} / {sorted(without)}")
    for key, n in with_rag.items():
        if not n < without[key] / 2:
            fail(f"{key}: {n} prompt tokens with rag, {without[key]} without; expected less than half")
    print(f"PASS prompts: with rag {sorted(with_rag.values())} tokens, without {sorted(without.values())}")

    refused = run([args.loom, "validate", REFUSED])
    if refused.returncode != 2 or "rag" not in refused.stderr or "RULER has none" not in refused.stderr:
        fail("validate of a RULER job with rag: should exit 2 naming `rag` and RULER", refused)
    print("PASS refused: RULER with rag: is refused by validate")

    port_file = os.path.join(args.out, "port")
    server = subprocess.Popen([sys.executable, SERVER, port_file])
    try:
        for _ in range(200):
            if os.path.exists(port_file) and open(port_file).read().strip():
                break
            time.sleep(0.05)
        url = "rag.base_url=http://127.0.0.1:%s/v1" % open(port_file).read().strip()
        emb = os.path.join(args.out, "embedding.h5")
        cmd = [args.loom, "run", EMBEDDING, "--output", emb, "--set", url]
        if args.np:
            cmd = ["mpirun", "-np", str(args.np), "--oversubscribe"] + cmd
        result = run(cmd)
        if result.returncode != 0:
            fail("the run with rag: embedding did not succeed", result)
    finally:
        server.terminate()
        server.wait()
    rows = [json.loads(line) for line in run([args.rows, emb]).stdout.splitlines() if line.strip()]
    if len(rows) != len(expected):
        fail(f"embedding run: expected {len(expected)} rows, got {len(rows)}")
    for row in rows:
        want = expected[row["sample_id"]]
        got = row["metadata"].get("rag")
        if row["status"] != "ok" or got != {"method": "embedding", "chunk_ids": [want["magic_chunk"]],
                                            "total_chunks": want["total_chunks"]}:
            fail(f"embedding row {row['sample_key']}: {row['status']} {row['error']} {got}, expected chunk "
                 f"{want['magic_chunk']} of {want['total_chunks']}")
    print(f"PASS embedding: {len(rows)} rows, each keeping the chunk that holds the answer")

    dead = os.path.join(args.out, "embedding_dead.h5")
    cmd = [args.loom, "run", EMBEDDING, "--output", dead, "--set", url]
    if args.np:
        cmd = ["mpirun", "-np", str(args.np), "--oversubscribe"] + cmd
    result = run(cmd)
    if result.returncode != 3:
        fail("with the embeddings server stopped the run should exit 3 (failed rows)", result)
    rows = [json.loads(line) for line in run([args.rows, dead]).stdout.splitlines() if line.strip()]
    if len(rows) != len(expected) or any(r["status"] != "failed" or "retrieval (embedding) failed" not in r["error"]
                                         for r in rows):
        fail(f"with the server stopped every row should fail with the retrieval's reason: {rows}")
    print(f"PASS embedding down: {len(rows)} failed rows, e.g. {rows[0]['error']!r}")


if __name__ == "__main__":
    main()
