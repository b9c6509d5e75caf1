#!/usr/bin/env python3
"""A small OpenAI-compatible /v1/embeddings test double over loopback (standard library only).

usage: embedding_server.py PORT_FILE   — binds 127.0.0.1 on a free port, writes the port to PORT_FILE, serves until
killed. POST /v1/embeddings {"input": [texts], "model": ...} answers {"object": "list", "data": [{"index": i,
"embedding": [...]}]}: each text's vector counts its lowercased words (runs of letters and digits) in 64 buckets
chosen by CRC-32, so a chunk sharing the question's words scores highest. Used by tests/rag/rag_e2e_test.py.
"""
import http.server
import json
import re
import sys
import zlib


def embed(text):
    vector = [0.0] * 64
    for word in re.findall(r"[0-9a-z]+", text.lower()):
        vector[zlib.crc32(word.encode()) % 64] += 1.0
    return vector


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        if self.path.rstrip("/") != "/v1/embeddings":
            self.send_error(404)
            return
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
        data = [{"object": "embedding", "index": i, "embedding": embed(t)} for i, t in enumerate(body["input"])]
        answer = json.dumps({"object": "list", "data": data, "model": body.get("model", "")}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args):
        pass


def main():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    with open(sys.argv[1], "w") as f:
        f.write(str(server.server_address[1]))
    server.serve_forever()


if __name__ == "__main__":
    main()
