#!/usr/bin/env python3
"""A small OpenAI-compatible /v1/embeddings test double over loopback (standard library only).

usage: embedding_server.py PORT_FILE   — binds 127.0.0.1 on a free port, writes the port to PORT_FILE, serves until
killed. POST /v1/embeddings {"input": [texts], "model": ...} answers {"object": "list", "data": [{"index": i,
"embedding": [...]}]}: each text's vector counts its lowercased words (runs of letters and digits) in 64 buckets
chosen by CRC-32, so a chunk sharing the question's words scores highest. Used by tests/rag/rag_e2e_test.py; the
server is tests/mpi/loopback_server.py's JsonEndpoint.
"""
import os
import re
import sys
import zlib

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "mpi"))
from loopback_server import JsonEndpoint  # noqa: E402


def embed(text):
    vector = [0.0] * 64
    for word in re.findall(r"[0-9a-z]+", text.lower()):
        vector[zlib.crc32(word.encode()) % 64] += 1.0
    return vector


def embeddings(body):
    data = [{"object": "embedding", "index": i, "embedding": embed(t)} for i, t in enumerate(body["input"])]
    return {"object": "list", "data": data, "model": body.get("model", "")}


def main():
    server = JsonEndpoint("/v1/embeddings", embeddings)
    with open(sys.argv[1], "w") as f:
        f.write(str(server.port))
    server.serve_forever()


if __name__ == "__main__":
    main()
