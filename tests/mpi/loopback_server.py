"""Loopback test doubles the end-to-end drivers share (standard library only): a JSON endpoint on 127.0.0.1 that
stands in for an OpenAI-compatible judge, NLI or embedding server, the OpenAI response bodies it answers with, and
`loom_mpi serve` of the tiny model as a child process. Next to e2e_support.py, imported the same way."""
import http.server
import json
import re
import subprocess
import threading

from e2e_support import fail


class JsonEndpoint:
    """POST `path` answered 200 with answer(body) as JSON; any other path gets 404. Every POST's body is kept in
    `requests`, in arrival order. Bound to 127.0.0.1 at a free port; `url` is its /v1 base URL. start() serves on a
    daemon thread (stop() ends it); serve_forever() serves in the calling thread."""

    def __init__(self, path, answer):
        self.requests = []
        endpoint = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                endpoint.requests.append(body)
                found = self.path.rstrip("/") == path
                data = json.dumps(answer(body) if found else {"error": f"no endpoint {self.path}"}).encode()
                self.send_response(200 if found else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/v1"

    def start(self):
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def serve_forever(self):
        self.server.serve_forever()

    def stop(self):
        self.server.shutdown()


def chat_completion(content):
    """A /v1/chat/completions answer whose one choice says `content`."""
    return {"object": "chat.completion", "choices": [
        {"index": 0, "message": {"role": "assistant", "content": content}}]}


def text_completion(text):
    """A /v1/completions answer whose one choice is `text`."""
    return {"object": "text_completion", "choices": [{"index": 0, "text": text}]}


class LoomServe:
    """`loom_mpi serve` of models/tiny-loom on the CPU at a free port (--port 0); `url` is its /v1 base URL, read from
    the "listening on" line. stop() sends SIGTERM and returns the exit code. stderr: where the server's log goes
    (inherited by default)."""

    def __init__(self, loom, stderr=None):
        self.proc = subprocess.Popen([loom, "serve", "--model", "models/tiny-loom", "--port", "0", "--device", "cpu"],
                                     stdout=subprocess.PIPE, stderr=stderr, text=True)
        for line in self.proc.stdout:
            match = re.search(r"listening on (http://127\.0\.0\.1:\d+)", line)
            if match:
                self.url = match.group(1) + "/v1"
                return
        fail("loom_mpi serve ended before it listened")

    def stop(self, timeout=30):
        self.proc.terminate()
        return self.proc.wait(timeout=timeout)
