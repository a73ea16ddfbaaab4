#!/usr/bin/env python3
"""reckon's own cost per request, side by side with the physical limit (wrk) and a peer (promptfoo).

Driven by bench/perf_targets.sh, which builds reckon and installs what this measures against.
Every number in one table comes from one run on one machine: the ratios are what to read.

  throughput   a loopback OpenAI-compatible endpoint served by nginx (fixed chat-completion body
               with usage; 0 ms, or 50 ms through the echo module), driven by wrk, by reckon (a
               whole campaign: extraction, scoring, pricing, SQLite writes) and by promptfoo
               (the same prompts, an assertion per answer, cache off), at concurrency 16/64/256
  cpu          callgrind instructions per request and CPU microseconds per request
  memory       peak RSS of a campaign of 1,000 / 10,000 / 100,000 cells
  store        rows written per second, one transaction per row vs batched; bytes per request
  analyses     import and `reversal` over 1,000,000 requests
"""
import argparse
import datetime
import json
import os
import platform
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BODY = ('{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"gpt-5.4","choices":[{"index":0,'
        '"message":{"role":"assistant","content":"The answer is 42."},"finish_reason":"stop"}],"usage":'
        '{"prompt_tokens":19,"completion_tokens":10,"total_tokens":29,"prompt_tokens_details":{"cached_tokens":0},'
        '"completion_tokens_details":{"reasoning_tokens":0}}}')
API_KEY = "sk-bench-not-a-secret"


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Nginx:
    """Two loopback servers answering every POST with BODY: one at once, one after 50 ms."""

    def __init__(self, work):
        self.dir = os.path.join(work, "nginx")
        os.makedirs(self.dir, exist_ok=True)
        self.ports = {0: free_port(), 50: free_port()}
        module = "/usr/lib/nginx/modules/ngx_http_echo_module.so"
        d = self.dir
        conf = f"""
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
load_module {module};
events {{ worker_connections 8192; }}
http {{
  access_log off;
  keepalive_requests 100000000;
  client_body_temp_path {d}/body; proxy_temp_path {d}/proxy; fastcgi_temp_path {d}/fastcgi;
  uwsgi_temp_path {d}/uwsgi; scgi_temp_path {d}/scgi;
  client_body_buffer_size 64k;
  server {{ listen 127.0.0.1:{self.ports[0]};
    location / {{ default_type application/json; return 200 '{BODY}'; }} }}
  server {{ listen 127.0.0.1:{self.ports[50]};
    location / {{ default_type application/json; echo_sleep 0.05; echo '{BODY}'; }} }}
}}
"""
        with open(os.path.join(d, "nginx.conf"), "w") as f:
            f.write(conf)
        subprocess.run(["nginx", "-p", d, "-c", os.path.join(d, "nginx.conf"), "-e", os.path.join(d, "error.log")],
                       check=True)
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", self.ports[50]), timeout=0.1).close()
                break
            except OSError:
                time.sleep(0.05)

    def url(self, delay_ms):
        return f"http://127.0.0.1:{self.ports[delay_ms]}/v1"

    def stop(self):
        pid_file = os.path.join(self.dir, "nginx.pid")
        if os.path.exists(pid_file):
            subprocess.run(["nginx", "-p", self.dir, "-c", os.path.join(self.dir, "nginx.conf"), "-s", "stop"],
                           stderr=subprocess.DEVNULL)


def prompt(i):
    return f"What is 6 times 7? Item {i}"


class Bench:
    def __init__(self, args):
        self.args = args
        self.work = os.path.abspath(args.work)
        self.reckon = os.path.abspath(args.reckon)
        self.peer = os.path.abspath(args.peer)
        os.makedirs(self.work, exist_ok=True)
        self.env = dict(os.environ, OPENAI_API_KEY=API_KEY, PROMPTFOO_DISABLE_TELEMETRY="1",
                        PROMPTFOO_DISABLE_UPDATE="1", PROMPTFOO_DISABLE_SHARING="1",
                        PROMPTFOO_CONFIG_DIR=os.path.join(self.work, "promptfoo-home"))

    # ---- inputs -------------------------------------------------------------------------------
    def items(self, n):
        path = os.path.join(self.work, f"items-{n}.jsonl")
        if not os.path.exists(path):
            with open(path, "w") as f:
                for i in range(n):
                    f.write(json.dumps({"id": f"q{i}", "q": prompt(i), "a": "42"}) + "\n")
        return path

    def campaign(self, url, n, concurrency):
        path = os.path.join(self.work, f"campaign-{n}-{concurrency}.json")
        with open(path, "w") as f:
            json.dump({"name": "perf", "concurrency": concurrency,
                       "models": [{"model": "openai:gpt-5.4", "params": {"base_url": url}}],
                       "tasks": [{"name": "perf", "data": {"file": self.items(n)}, "reference_field": "a",
                                  "prompt": {"user": "{q}"}, "scorer": "last_number"}]}, f)
        return path

    # ---- runners ------------------------------------------------------------------------------
    def timed(self, cmd, cwd=None):
        """Runs under GNU time: (wall s, user+sys CPU s, peak RSS MB, stdout)."""
        out = os.path.join(self.work, "time.txt")
        t0 = time.monotonic()
        p = subprocess.run(["/usr/bin/time", "-o", out, "-f", "%U %S %M"] + cmd, env=self.env, cwd=cwd,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        wall = time.monotonic() - t0
        if p.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd[:3])} failed ({p.returncode}): {p.stderr[-2000:]}")
        user, sys_, rss = open(out).read().split()[-3:]
        return wall, float(user) + float(sys_), int(rss) / 1024.0, p.stdout

    def reckon_run(self, url, n, concurrency):
        db = os.path.join(self.work, "perf.db")
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(db + suffix):
                os.remove(db + suffix)
        wall, cpu, rss, out = self.timed([self.reckon, "run", self.campaign(url, n, concurrency), "--db", db, "--quiet"])
        m = re.search(r"(\d+) sent \((\d+) ok, (\d+) errors\)", out)
        if not m or int(m.group(2)) != n:
            raise RuntimeError(f"reckon: expected {n} ok answers, got: {out[:400]}")
        return wall, cpu, rss

    def promptfoo_run(self, url, n, concurrency):
        d = os.path.join(self.work, "promptfoo")
        os.makedirs(d, exist_ok=True)
        tests = os.path.join(d, f"tests-{n}.csv")
        if not os.path.exists(tests):
            with open(tests, "w") as f:
                f.write("q,__expected\n")
                for i in range(n):
                    f.write(f'"{prompt(i)}",contains:42\n')
        cfg = os.path.join(d, f"config-{n}.yaml")
        with open(cfg, "w") as f:
            f.write(f"description: reckon perf peer\nproviders:\n  - id: openai:chat:gpt-5.4\n    config:\n"
                    f"      apiBaseUrl: {url}\n      apiKey: {API_KEY}\nprompts:\n  - \"{{{{q}}}}\"\n"
                    f"tests: file://{tests}\n")
        exe = os.path.join(self.peer, "node_modules", ".bin", "promptfoo")
        wall, cpu, rss, out = self.timed([exe, "eval", "-c", cfg, "--no-cache", "-j", str(concurrency),
                                          "--no-progress-bar", "--no-table"], cwd=d)
        m = re.search(r"Successes:\s*(\d+)", out)
        if not m or int(m.group(1)) != n:
            raise RuntimeError(f"promptfoo: expected {n} successes, got: {out[-600:]}")
        return wall, cpu, rss

    def differential(self, run, n1, n2):
        """Requests per second between a small and a large run: start-up and shutdown cancel."""
        w1 = run(n1)[0]
        w2 = run(n2)[0]
        return (n2 - n1) / max(w2 - w1, 1e-6)

    def wrk(self, url, concurrency, seconds):
        script = os.path.join(self.work, "post.lua")
        with open(script, "w") as f:
            body = json.dumps({"model": "gpt-5.4", "messages": [{"role": "user", "content": prompt(1)}]})
            f.write(f'wrk.method = "POST"\nwrk.body = {json.dumps(body)}\nwrk.headers["Content-Type"] = "application/json"\n')
        p = subprocess.run(["wrk", "-t", "2", "-c", str(concurrency), "-d", f"{seconds}s", "-s", script,
                            url + "/chat/completions"], stdout=subprocess.PIPE, text=True, check=True)
        return float(re.search(r"Requests/sec:\s*([\d.]+)", p.stdout).group(1))

    # ---- sections -----------------------------------------------------------------------------
    def throughput(self, nginx):
        rows = []
        quick = self.args.quick
        for delay in self.args.delays or (0, 50):
            for c in self.args.concurrency or ((64,) if quick else (16, 64, 256, 1024)):
                url = nginx.url(delay)
                ideal = c * 1000.0 / delay if delay else None
                wrk_rate = self.wrk(url, c, 2 if quick else 5)
                n2 = (8000 if quick else 40000) if delay == 0 else int(c * 20 * (1 if quick else 4))
                log(f"throughput: delay {delay} ms, concurrency {c}: wrk {wrk_rate:.0f}/s, reckon ...")
                reckon_rate = self.differential(lambda n: self.reckon_run(url, n, c), n2 // 4, n2)
                pf_rate = None
                if not self.args.no_peer:
                    p2 = 400 if quick else (1000 if (delay and c == 16) else 2000)
                    log(f"  reckon {reckon_rate:.0f}/s, promptfoo ...")
                    pf_rate = self.differential(lambda n: self.promptfoo_run(url, n, c), p2 // 4, p2)
                rows.append({"delay_ms": delay, "concurrency": c, "ideal": ideal, "wrk": wrk_rate,
                             "reckon": reckon_rate, "promptfoo": pf_rate})
        return rows

    def runners_run(self, url, n, concurrency, k):
        """k `reckon run` processes started at once on one campaign and one fresh store: wall s until the last ends."""
        db = os.path.join(self.work, "runners.db")
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(db + suffix):
                os.remove(db + suffix)
        camp = self.campaign(url, n, concurrency)
        t0 = time.monotonic()
        procs = [subprocess.Popen([self.reckon, "run", camp, "--db", db, "--quiet"], env=self.env, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for _ in range(k)]
        outs = [p.communicate() for p in procs]
        wall = time.monotonic() - t0
        for p, (out, err) in zip(procs, outs):
            if p.returncode != 0:
                raise RuntimeError(f"reckon runner failed ({p.returncode}): {err[-2000:]}")
        con = sqlite3.connect(db)
        ok, sent = con.execute("SELECT SUM(status = 'ok'), COUNT(*) FROM requests").fetchone()
        con.close()
        if ok != n or sent != n:
            raise RuntimeError(f"runners: expected {n} answers each asked once, got {ok} ok of {sent} rows")
        return wall, 0, 0

    def runners(self, nginx):
        """Issue #21: what N runners on one store sustain together, against one runner, in the same run."""
        rows = []
        quick = self.args.quick
        for delay in (0, 50):
            url = nginx.url(delay)
            c = 64
            for k in ((1, 2) if quick else (1, 2, 4)):
                n2 = (6000 if quick else 30000) if delay == 0 else int(k * c * 20 * (1 if quick else 3))
                log(f"runners: delay {delay} ms, {k} runner(s) of concurrency {c} on one store ...")
                rate = self.differential(lambda n: self.runners_run(url, n, c, k), n2 // 4, n2)
                rows.append({"delay_ms": delay, "concurrency": c, "runners": k, "rate": rate,
                             "ideal": k * c * 1000.0 / delay if delay else None})
        return rows

    def cpu(self, nginx):
        url = nginx.url(0)
        counts = {}
        n1, n2 = (200, 600) if self.args.quick else (500, 2500)
        for n in (n1, n2):
            db = os.path.join(self.work, "cg.db")
            for suffix in ("", "-wal", "-shm"):
                if os.path.exists(db + suffix):
                    os.remove(db + suffix)
            p = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=" + os.path.join(self.work, "cg.out"),
                                self.reckon, "run", self.campaign(url, n, 64), "--db", db, "--quiet"],
                               env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            m = re.search(r"Collected : (\d+)", p.stderr)
            if p.returncode != 0 or not m:
                raise RuntimeError("callgrind run failed: " + p.stderr[-1000:])
            counts[n] = int(m.group(1))
        per_request_ir = (counts[n2] - counts[n1]) / (n2 - n1)
        m1, m2 = (2000, 10000) if self.args.quick else (10000, 50000)
        _, cpu1, _ = self.reckon_run(url, m1, 64)
        _, cpu2, _ = self.reckon_run(url, m2, 64)
        return {"instructions_per_request": per_request_ir, "fixed_instructions": counts[n1] - n1 * per_request_ir,
                "cpu_us_per_request": (cpu2 - cpu1) / (m2 - m1) * 1e6}

    def memory(self, nginx):
        out = []
        for n in ((1000, 10000) if self.args.quick else (1000, 10000, 100000)):
            wall, cpu, rss = self.reckon_run(nginx.url(0), n, 256)
            out.append({"cells": n, "peak_rss_mb": rss, "wall_s": wall})
        return out

    def store(self):
        exe = os.path.join(os.path.dirname(self.reckon), "bench", "store_bench")
        p = subprocess.run([exe, os.path.join(self.work, "store-bench.db"), "5000" if self.args.quick else "50000"],
                           stdout=subprocess.PIPE, text=True, check=True)
        return json.loads(p.stdout)

    def analyses(self):
        n = 100000 if self.args.quick else 1000000
        models = ["gpt-5-mini", "gpt-5.4", "claude-haiku-4-5", "claude-opus-4-6", "gemini-3-flash-preview",
                  "gemini-3.1-pro-preview", "kimi-k2.5", "deepseek-reasoner"]
        csv = os.path.join(self.work, f"requests-{n}.csv")
        today = datetime.date.today().isoformat()
        if not os.path.exists(csv):
            with open(csv, "w") as f:
                f.write("model,task,item_id,input_tokens,output_tokens,reasoning_tokens,score,created_at\n")
                per = n // (len(models) * 4)
                for mi, m in enumerate(models):
                    for t in range(4):
                        for i in range(per):
                            out = 200 + (i * 7919 + mi * 104729) % 4000
                            f.write(f"{m},task{t},i{i},{300 + i % 200},{out},{out // 2},{(i + mi) % 3 // 2},{today}\n")
        db = os.path.join(self.work, "scale.db")
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(db + suffix):
                os.remove(db + suffix)
        imp_wall, _, imp_rss, _ = self.timed([self.reckon, "import", "--db", db, csv])
        rev_wall, _, rev_rss, _ = self.timed([self.reckon, "reversal", "--db", db])
        out = {"requests": n, "import_s": imp_wall, "import_rows_per_s": n / imp_wall, "import_peak_mb": imp_rss,
               "reversal_s": rev_wall, "reversal_peak_mb": rev_rss}
        if not self.args.quick:
            # `select eval` (5 seeds x 4 budgets, 5,000 x 500) and `route train` (100,000 queries): their
            # own benchmarks, at the sizes their issues name.
            for name in ("select_bench", "route_bench"):
                exe = os.path.join(os.path.dirname(self.reckon), "bench", name)
                if os.path.exists(exe):
                    p = subprocess.run([exe], stdout=subprocess.PIPE, text=True, check=True)
                    out[name] = p.stdout.rstrip()
        return out


def machine():
    cpu = "?"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores ({cpu}), {mem:.0f} GiB, {platform.system()} {platform.release()}"


def fmt(x, digits=0):
    return "–" if x is None else f"{x:,.{digits}f}"


def report(res):
    lines = [f"Measured {res['date']} on {res['machine']}.", ""]
    lines += ["| server delay | concurrency | ideal r/s | wrk r/s | reckon r/s | promptfoo r/s | reckon/wrk | "
              "reckon/promptfoo | reckon/min(ideal, wrk) |", "|---|---|---|---|---|---|---|---|---|"]
    for r in res["throughput"]:
        limit = min(r["wrk"], r["ideal"]) if r["ideal"] else r["wrk"]
        pf = r["promptfoo"]
        lines.append(f"| {r['delay_ms']} ms | {r['concurrency']} | {fmt(r['ideal'])} | {fmt(r['wrk'])} | {fmt(r['reckon'])} | "
                     f"{fmt(pf)} | {r['reckon'] / r['wrk']:.2f} | {fmt(r['reckon'] / pf if pf else None, 1)}× | "
                     f"{r['reckon'] / limit:.2f} |")
    if res.get("runners"):
        lines += ["", "| server delay | runners on one store (concurrency 64 each) | cells/s together | ideal | × one runner |",
                  "|---|---|---|---|---|"]
        one = {r["delay_ms"]: r["rate"] for r in res["runners"] if r["runners"] == 1}
        for r in res["runners"]:
            lines.append(f"| {r['delay_ms']} ms | {r['runners']} | {fmt(r['rate'])} | {fmt(r['ideal'])} | "
                         f"{r['rate'] / one[r['delay_ms']]:.2f} |")
    if "cpu" not in res:
        return "\n".join(lines)
    c = res["cpu"]
    lines += ["", f"CPU per request (whole campaign, concurrency 64, 0 ms): {c['instructions_per_request']:,.0f} instructions "
              f"(callgrind, marginal over runs of different sizes; {c['fixed_instructions'] / 1e6:,.0f} M fixed per run), "
              f"{c['cpu_us_per_request']:.1f} µs of user+system CPU.", ""]
    lines += ["| cells | peak RSS MB | wall s |", "|---|---|---|"]
    for m in res["memory"]:
        lines.append(f"| {m['cells']:,} | {m['peak_rss_mb']:.1f} | {m['wall_s']:.1f} |")
    s = res["store"]
    lines += ["", f"Store: {s['rows']:,} request rows; one transaction per row {s['per_row_rows_per_s']:,.0f} rows/s, "
              f"batched ({s['batch']} rows per transaction, as campaigns write) {s['batched_rows_per_s']:,.0f} rows/s "
              f"({s['batched_rows_per_s'] / s['per_row_rows_per_s']:.1f}×); {s['bytes_per_request']:,.0f} bytes on disk per request."]
    a = res["analyses"]
    lines += [f"Analyses: `reckon import` of {a['requests']:,} requests {a['import_s']:.1f} s "
              f"({a['import_rows_per_s']:,.0f} rows/s, peak {a['import_peak_mb']:.0f} MB); `reckon reversal` over them "
              f"{a['reversal_s']:.1f} s (peak {a['reversal_peak_mb']:.0f} MB)."]
    for name in ("select_bench", "route_bench"):
        if name in a:
            lines += ["", f"`{name}`:", "```", a[name], "```"]
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reckon", default=os.path.join(ROOT, "build", "reckon"))
    ap.add_argument("--peer", default=os.path.join(ROOT, "build", "perf", "peer"), help="where promptfoo is installed")
    ap.add_argument("--work", default=os.path.join(ROOT, "build", "perf", "work"))
    ap.add_argument("--quick", action="store_true", help="smaller runs, concurrency 64 only (a smoke test)")
    ap.add_argument("--no-peer", action="store_true", help="skip promptfoo")
    ap.add_argument("--json", help="also write the results here")
    ap.add_argument("--only-runners", action="store_true", help="only the several-runners-on-one-store section")
    ap.add_argument("--only-throughput", action="store_true", help="only the throughput table")
    ap.add_argument("--delays", type=lambda v: [int(x) for x in v.split(",")], help="server delays in ms (default 0,50)")
    ap.add_argument("--concurrency", type=lambda v: [int(x) for x in v.split(",")],
                    help="concurrency levels (default 16,64,256,1024; 64 with --quick)")
    args = ap.parse_args()
    for tool in ("nginx", "wrk", "valgrind", "/usr/bin/time"):
        if not shutil.which(tool):
            sys.exit(f"perf: '{tool}' not found: run scripts/install-perf-deps.sh")
    bench = Bench(args)
    nginx = Nginx(bench.work)
    try:
        res = {"date": datetime.date.today().isoformat(), "machine": machine(), "quick": args.quick}
        if args.only_runners:
            res["throughput"] = []
            res["runners"] = bench.runners(nginx)
            print(report(res))
            return
        res["throughput"] = bench.throughput(nginx)
        if args.only_throughput:
            print(report(res))
            return
        res["runners"] = bench.runners(nginx)
        log("cpu per request (callgrind) ...")
        res["cpu"] = bench.cpu(nginx)
        log("peak memory ...")
        res["memory"] = bench.memory(nginx)
    finally:
        nginx.stop()
    log("store ...")
    res["store"] = bench.store()
    log("analyses at scale ...")
    res["analyses"] = bench.analyses()
    if args.json:
        with open(args.json, "w") as f:
            json.dump(res, f, indent=1)
    print(report(res))


if __name__ == "__main__":
    main()
