#!/usr/bin/env python3
"""`rag: embedding` end to end with `loom_mpi serve` as the embeddings endpoint (docs/rag.md, docs/api-backend.md).

usage: rag_serve_e2e_test.py --loom LOOM_MPI --rows RAG_ROWS --out DIR [--np N]   (run from the repository root)

1. Starts `loom_mpi serve --model models/tiny-loom --port 0 --device cpu` (its /v1/embeddings: mean-pooled,
   L2-normalised final hidden states).
2. Runs tests/rag/jobs/rag_embedding.yaml under mpirun -np N with rag.base_url pointing at that server,
   rag.model tiny-loom and rag.num_chunks 2: every row is ok and keeps the chunks that transformers' embeddings of
   the same tiny model retrieve (tests/fixtures/serve/embeddings.json, rag_e2e, from
   tools/fixtures/make_embedding_fixtures.py; a chunk whose text repeats may stand for its twins).
3. Stops the server with SIGTERM: it exits 0.
Standard library only.
"""
import argparse
import json
import os
import shutil
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "mpi"))
from e2e_support import fail, run  # noqa: E402
from loopback_server import LoomServe  # noqa: E402
JOB = os.path.join("tests", "rag", "jobs", "rag_embedding.yaml")
FIXTURE = os.path.join("tests", "fixtures", "serve", "embeddings.json")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--loom", required=True)
    parser.add_argument("--rows", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--np", type=int, default=2)
    args = parser.parse_args()
    shutil.rmtree(args.out, ignore_errors=True)
    os.makedirs(args.out)
    with open(FIXTURE) as f:
        expected = json.load(f)["rag_e2e"]

    server = LoomServe(args.loom)
    try:
        results = os.path.join(args.out, "serve_embedding.h5")
        cmd = [args.loom, "run", JOB, "--output", results, "--set", f"rag.base_url={server.url}",
               "--set", "rag.model=tiny-loom", "--set", f"rag.num_chunks={expected['num_chunks']}",
               "--set", f"rag.chunk_size={expected['chunk_size']}"]
        if args.np:
            cmd = ["mpirun", "-np", str(args.np), "--oversubscribe"] + cmd
        result = run(cmd)
        if result.returncode != 0:
            fail("the run with rag: embedding against loom_mpi serve did not succeed", result)
    finally:
        code = server.stop()
    if code != 0:
        fail(f"loom_mpi serve exited {code} on SIGTERM, expected 0")

    rows = run([args.rows, results])
    if rows.returncode != 0:
        fail("rag_rows could not read the results", rows)
    rows = [json.loads(line) for line in rows.stdout.splitlines() if line.strip()]
    if len(rows) != len(expected["rows"]):
        fail(f"expected {len(expected['rows'])} rows, got {len(rows)}")
    for row in rows:
        want = expected["rows"][row["sample_id"]]
        got = row["metadata"].get("rag")
        if row["status"] != "ok" or got is None:
            fail(f"row {row['sample_key']}: {row['status']} {row['error']} {got}")
        ids = got["chunk_ids"]
        fits = (got["method"] == "embedding" and got["total_chunks"] == want["total_chunks"] and
                len(ids) == len(want["chunk_ids"]) and len(set(ids)) == len(ids) and
                all(k in same for k, same in zip(ids, want["same_text"])))
        if not fits:
            fail(f"row {row['sample_key']}: metadata.rag {got}, expected chunk ids {want['chunk_ids']} (or a chunk "
                 f"of the same text: {want['same_text']}) of {want['total_chunks']}")
    print(f"PASS serve embeddings: {len(rows)} rows, each with the chunks transformers' embeddings retrieve: " +
          ", ".join(f"{r['sample_id']} {r['metadata']['rag']['chunk_ids']}" for r in rows))


if __name__ == "__main__":
    main()
