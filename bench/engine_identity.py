#!/usr/bin/env python3
"""Issue #23: two reckon binaries (before and after a change to the campaign engine) run the same
campaigns against one deterministic loopback server; their stores must hold the same v_requests
rows, timings aside, and their dry runs must print the same estimate.

usage: bench/engine_identity.py OLD_RECKON NEW_RECKON

The server answers each prompt the same way every time: a number derived from the prompt (right
for some items), usage with reasoning tokens, a 400 for some prompts (a client error, asked again
on rerun) and one 500 before the answer for others (a retried call). The campaigns: two models
with repeats, a second campaign overlapping the first (response-cache hits), a rerun of the
first (resume), and a dry run after them (estimates from the store's history)."""
import hashlib
import http.server
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading

TIMING = {"created_at", "latency_ms", "ttft_ms"}


def digest(text):
    return int(hashlib.sha256(text.encode()).hexdigest()[:12], 16)


class Handler(http.server.BaseHTTPRequestHandler):
    seen = {}
    lock = threading.Lock()

    def log_message(self, *args):
        pass

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        prompt = body["messages"][-1]["content"]
        key = body["model"] + "\n" + prompt + "\n" + self.headers.get("X-Dry", "")
        h = digest(body["model"] + "\n" + prompt)
        with Handler.lock:
            Handler.seen[key] = Handler.seen.get(key, 0) + 1
            attempt = Handler.seen[key]
        if h % 11 == 0:
            return self.reply(400, {"error": {"message": "bad prompt %d" % (h % 1000), "type": "invalid_request_error"}})
        if h % 7 == 0 and attempt % 2 == 1:
            return self.reply(500, {"error": {"message": "try again", "type": "server_error"}})
        answer = "the answer is %d" % (h % 4 if h % 3 else int(prompt.split()[-1]) * 2)
        out = 5 + h % 40
        self.reply(200, {
            "id": "x", "object": "chat.completion", "created": 0, "model": body["model"],
            "choices": [{"index": 0, "message": {"role": "assistant", "content": answer}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": len(prompt) // 4 + 3, "completion_tokens": out,
                      "completion_tokens_details": {"reasoning_tokens": out // 2},
                      "prompt_tokens_details": {"cached_tokens": 0}},
        })

    def reply(self, status, obj):
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def campaign(folder, name, base_url, limit):
    items = os.path.join(folder, "items.jsonl")
    with open(items, "w") as f:
        for i in range(80):
            f.write(json.dumps({"q": "what is twice %d" % i, "a": str(2 * i)}) + "\n")
    spec = {
        "name": name,
        "models": [
            {"model": "openai:gpt-5.4", "repeats": 2, "params": {"base_url": base_url, "max_tokens": 64}},
            {"model": "openai:gpt-5-mini", "params": {"base_url": base_url, "max_tokens": 64}},
        ],
        "tasks": [{"name": "twice", "data": {"file": items}, "reference_field": "a", "prompt": {"user": "{q}"},
                   "scorer": "last_number"}],
        "selection": {"limit": limit, "seed": 7},
        "retry": {"max_attempts": 3, "backoff_s": 0.01, "max_backoff_s": 0.02},
        "concurrency": 1,  # repeats send identical bodies: one at a time, the server's faults land alike
    }
    path = os.path.join(folder, name + ".json")
    with open(path, "w") as f:
        json.dump(spec, f)
    return path


def rows(db):
    con = sqlite3.connect(db)
    cur = con.execute("SELECT * FROM v_requests")
    cols = [d[0] for d in cur.description]
    keep = [i for i, c in enumerate(cols) if c not in TIMING]
    out = sorted(tuple(r[i] for i in keep) for r in cur.fetchall())
    return [cols[i] for i in keep], out


def run_all(binary, folder, base_url, env):
    db = os.path.join(folder, "store.db")
    first = campaign(folder, "first", base_url, 40)
    second = campaign(folder, "second", base_url, 50)
    outputs = []
    for args in ([first], [second], [first], [first, "--dry-run"]):
        p = subprocess.run([binary, "run", *args, "--db", db], capture_output=True, text=True, env=env)
        if p.returncode not in (0, 1):
            sys.exit("%s run %s: exit %d\n%s" % (binary, " ".join(args), p.returncode, p.stderr))
        # Timings aside: the summary's last column is latency p50 / p90.
        # Zero dollars print as "$0" since 2026-12 (before: "$0.000000"): the same number either way.
        text = re.sub(r"\$0\.0+\b", "$0", p.stdout)
        outputs.append("\n".join(re.sub(r"\d+ / \d+ *$", "", l).rstrip() for l in text.splitlines()))
    return rows(db), outputs


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base_url = "http://127.0.0.1:%d/v1" % server.server_address[1]
    env = dict(os.environ, OPENAI_API_KEY="sk-identity-test")
    results = []
    for binary in sys.argv[1:]:
        Handler.seen = {}
        # One folder for both: the run id hashes the campaign, whose task names its file.
        folder = os.path.join(tempfile.gettempdir(), "reckon-engine-identity")
        shutil.rmtree(folder, ignore_errors=True)
        os.makedirs(folder)
        results.append(run_all(os.path.abspath(binary), folder, base_url, env))
        shutil.rmtree(folder)
    (cols, old), old_out = results[0]
    (_, new), new_out = results[1]
    same = old == new
    print("v_requests rows: %d before, %d after, %s (columns compared: %d, timings aside)" %
          (len(old), len(new), "identical" if same else "DIFFERENT", len(cols)))
    for a, b in zip(old, new):
        if a != b:
            for c, x, y in zip(cols, a, b):
                if x != y:
                    print("  first difference: %s: %r → %r" % (c, x, y))
            break
    same_out = old_out == new_out
    print("printed summaries and dry run: %s" % ("identical" if same_out else "DIFFERENT"))
    if not same_out:
        for a, b in zip(old_out, new_out):
            if a != b:
                print("--- before\n%s\n--- after\n%s" % (a, b))
                break
    sys.exit(0 if same and same_out else 1)


if __name__ == "__main__":
    main()
