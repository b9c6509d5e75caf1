#!/usr/bin/env python3
"""`rag: {method: contriever}` and `rag: {method: llamaindex}` end to end (docs/rag.md).

usage: rag_contriever_e2e_test.py --loom LOOM_MPI --rows RAG_ROWS --out DIR [--np N]   (run from the repository root)

1. `loom_mpi validate tests/rag/jobs/rag_contriever.yaml` passes; with rag.model pointing at a directory without
   config.json it is refused (exit 2) naming rag.model.
2. `mpirun -np N loom_mpi run tests/rag/jobs/rag_contriever.yaml`: rank 0 embeds every chunk and question with the
   tiny random BERT of tests/fixtures/rag/tiny-bert on the CPU; every row is ok, and its metadata.rag keeps the
   chunk ids that transformers' BertModel retrieves the LOOM-Scope way (tests/fixtures/rag/contriever.json,
   rag_e2e, from tools/fixtures/make_contriever_fixtures.py; a chunk whose text repeats may stand for its twins).
3. The same with tests/rag/jobs/rag_llamaindex.yaml: every row keeps the chunk ids LlamaIndex's SentenceSplitter and
   VectorStoreIndex retrieve with the tiny BERT's [CLS] embeddings (tests/fixtures/rag/llamaindex.json, retrieval,
   from tools/fixtures/make_llamaindex_fixtures.py).
Standard library only.
"""
import argparse
import json
import os
import shutil
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "mpi"))
from e2e_support import fail, run  # noqa: E402
JOB = os.path.join("tests", "rag", "jobs", "rag_contriever.yaml")
FIXTURE = os.path.join("tests", "fixtures", "rag", "contriever.json")
LLAMAINDEX_JOB = os.path.join("tests", "rag", "jobs", "rag_llamaindex.yaml")
LLAMAINDEX_FIXTURE = os.path.join("tests", "fixtures", "rag", "llamaindex.json")


def run_job(args, job, name):
    results = os.path.join(args.out, name + ".h5")
    cmd = [args.loom, "run", job, "--output", results]
    if args.np:
        cmd = ["mpirun", "-np", str(args.np), "--oversubscribe"] + cmd
    result = run(cmd)
    if result.returncode != 0:
        fail(f"the run with rag: {name} did not succeed", result)
    rows = run([args.rows, results])
    if rows.returncode != 0:
        fail("rag_rows could not read the results", rows)
    return [json.loads(line) for line in rows.stdout.splitlines() if line.strip()]


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

    result = run([args.loom, "validate", JOB])
    if result.returncode != 0:
        fail("validate of the contriever job failed", result)
    result = run([args.loom, "validate", JOB, "--set", "rag.model=" + os.path.abspath(args.out)])
    if result.returncode != 2 or "rag.model" not in result.stderr or "config.json" not in result.stderr:
        fail("validate with an encoder directory without config.json should exit 2 naming rag.model", result)

    rows = run_job(args, JOB, "contriever")
    if len(rows) != len(expected["rows"]):
        fail(f"expected {len(expected['rows'])} rows, got {len(rows)}")
    for row in rows:
        want = expected["rows"][row["sample_id"]]
        got = row["metadata"].get("rag")
        if row["status"] != "ok" or got is None:
            fail(f"row {row['sample_key']}: {row['status']} {row['error']} {got}")
        ids = got["chunk_ids"]
        fits = (got["method"] == "contriever" and got["total_chunks"] == want["total_chunks"] and
                len(ids) == len(want["chunk_ids"]) and len(set(ids)) == len(ids) and
                all(k in same for k, same in zip(ids, want["same_text"])))
        if not fits:
            fail(f"row {row['sample_key']}: metadata.rag {got}, expected chunk ids {want['chunk_ids']} (or a chunk "
                 f"of the same text: {want['same_text']}) of {want['total_chunks']}")
    print(f"PASS contriever: {len(rows)} rows, each with the chunks transformers' BertModel retrieves: " +
          ", ".join(f"{r['sample_id']} {r['metadata']['rag']['chunk_ids']}" for r in rows))

    with open(LLAMAINDEX_FIXTURE) as f:
        expected = json.load(f)["retrieval"]
    rows = run_job(args, LLAMAINDEX_JOB, "llamaindex")
    if len(rows) != len(expected["rows"]):
        fail(f"expected {len(expected['rows'])} llamaindex rows, got {len(rows)}")
    for row in rows:
        want = expected["rows"][row["sample_id"]]
        got = row["metadata"].get("rag")
        if row["status"] != "ok" or got is None:
            fail(f"row {row['sample_key']}: {row['status']} {row['error']} {got}")
        if (got["method"] != "llamaindex" or got["chunk_ids"] != want["chunk_ids"] or
                got["total_chunks"] != len(want["chunks"])):
            fail(f"row {row['sample_key']}: metadata.rag {got}, expected chunk ids {want['chunk_ids']} of "
                 f"{len(want['chunks'])}")
    print(f"PASS llamaindex: {len(rows)} rows, each with the nodes LlamaIndex retrieves: " +
          ", ".join(f"{r['sample_id']} {r['metadata']['rag']['chunk_ids']}" for r in rows))


if __name__ == "__main__":
    main()
