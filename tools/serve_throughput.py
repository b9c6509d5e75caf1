#!/usr/bin/env python3
"""Requests per second of a running `loom_mpi serve` (stdlib only; loopback or any URL you give).

  tools/serve_throughput.py --url http://127.0.0.1:8000/v1 [--requests 32] [--concurrency 1 8]
                            [--prompt-tokens 128] [--max-tokens 32]

Sends --requests greedy /completions requests (token-id prompts of --prompt-tokens, max_tokens --max-tokens) from
each --concurrency number of threads in turn and prints requests/s and completion tokens/s for each.
"""
import argparse
import concurrent.futures
import json
import time
import urllib.request


def one(url, prompt, max_tokens):
    body = json.dumps({"prompt": prompt, "max_tokens": max_tokens, "temperature": 0}).encode()
    request = urllib.request.Request(url + "/completions", body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=600) as answer:
        return json.load(answer)["usage"]["completion_tokens"]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--requests", type=int, default=32)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--prompt-tokens", type=int, default=128)
    parser.add_argument("--max-tokens", type=int, default=32)
    args = parser.parse_args()
    prompts = [[(7 * i + 13 * j) % 4000 + 2 for j in range(args.prompt_tokens)] for i in range(args.requests)]
    for workers in args.concurrency:
        start = time.time()
        with concurrent.futures.ThreadPoolExecutor(workers) as pool:
            tokens = sum(pool.map(lambda p: one(args.url, p, args.max_tokens), prompts))
        seconds = time.time() - start
        print(f"concurrency {workers}: {args.requests} requests in {seconds:.2f} s = {args.requests / seconds:.1f} "
              f"requests/s, {tokens / seconds:.0f} completion tokens/s")


if __name__ == "__main__":
    main()
