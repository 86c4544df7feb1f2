"""HTTP load on a served search API: QPS and latency percentiles with wrk, and where the CPU goes.

    .venv/bin/python bench/load.py --prefix bench [--workers 1,2] [--seconds 20] [--connections 8]

For each worker count it starts `search-api serve --workers N` on a free loopback port against the
live build of `--prefix` (bench/indexing.py leaves a 100k one), waits for /readyz, then runs wrk
twice: every request a new query (each one pays its encode: the uncached case) and a head/tail mix
(Zipf over 300 queries: the search box's repeats, mostly served by the query-vector cache). CPU
seconds of the API processes and of Elasticsearch are read from /proc around each run, so the
output says how much CPU one request costs on each side. Load goes to 127.0.0.1 only and every run
is bounded by --seconds.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from indexer.sample.data import LEAVES  # noqa: E402

LUA = """
local paths = {}
for line in io.lines(os.getenv("LOAD_PATHS")) do paths[#paths + 1] = line end
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i - 1) % #paths + 1])
end
"""


def vocabulary(seed: int = 5) -> list[str]:
    """Every English query the sample vocabulary makes: attribute + noun (+ a use)."""
    words = set()
    for _path, _en, nouns, attributes, _price in LEAVES:
        for _zh, noun in nouns:
            words.add(noun)
            for values in attributes.values():
                for _vzh, value in values:
                    words.add(f"{value} {noun}")
    out = sorted(w for w in words if w.strip())
    random.Random(seed).shuffle(out)
    return out


def unique_queries(n: int, seed: int = 7) -> list[str]:
    """N distinct queries (no repeats: each one is encoded), mixing Chinese and English."""
    rng = random.Random(seed)
    base = vocabulary()
    extras = ["for home", "for women", "for men", "for kids", "gift", "cheap", "best", "new", "large", "small",
              "portable", "set", "2 pack", "soft", "durable", "travel", "office", "outdoor", "premium", "mini"]
    chinese = [noun for _p, _en, nouns, _a, _pr in LEAVES for noun, _ in nouns]
    seen: set[str] = set()
    for _ in range(50 * n):  # ~300k English combinations: a bounded loop, never a hang
        if len(seen) >= n:
            break
        if rng.random() < 0.2:
            q = rng.choice(chinese) + rng.choice(["", "女", "男", "儿童", "家用", "便携", "大号", "新款"])
        else:
            before, after = rng.choice(["", *extras]), rng.choice(["", *extras])
            q = " ".join(x for x in (before, rng.choice(base), after) if x)
        seen.add(q)
    else:
        raise SystemExit(f"load: the vocabulary makes fewer than {n} distinct queries")
    out = sorted(seen)
    rng.shuffle(out)
    return out


def head_tail(n: int, seed: int = 9) -> list[str]:
    """N draws from 300 queries with Zipf-like frequencies (rank r drawn ∝ 1/r)."""
    rng = random.Random(seed)
    pool = unique_queries(300, seed=seed)
    weights = [1 / (r + 1) for r in range(len(pool))]
    return rng.choices(pool, weights=weights, k=n)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pids: list[int]) -> float:
    """Utime + stime of the processes (and their reaped children are not counted)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


def tree(pid: int) -> list[int]:
    """The pid and its descendants."""
    out = [pid]
    try:
        children = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    except OSError:
        return out
    for child in children:
        out += tree(int(child))
    return out


def es_pids() -> list[int]:
    found = subprocess.run(["pgrep", "-f", "org.elasticsearch.bootstrap.Elasticsearch"],
                           capture_output=True, text=True).stdout.split()
    return [int(p) for p in found]


def wait_ready(url: str, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "/readyz", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"load: server at {url} not ready after {timeout:.0f} s")


def wrk(url: str, queries: list[str], *, seconds: int, connections: int, threads: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        paths = Path(tmp, "paths.txt")
        paths.write_text("".join("/search?" + urllib.parse.urlencode({"q": q}) + "\n" for q in queries))
        script = Path(tmp, "paths.lua")
        script.write_text(LUA)
        out = subprocess.run(["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s", "--latency",
                              "-s", str(script), url], capture_output=True, text=True,
                             env={**os.environ, "LOAD_PATHS": str(paths)}, timeout=seconds + 60).stdout
    def ms(label: str) -> float:
        m = re.search(rf"^\s*{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        if not m:
            return float("nan")
        return float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)]
    qps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    timeouts = re.search(r"timeout (\d+)", out)
    total = re.search(r"(\d+) requests in", out)
    return {"qps": float(qps.group(1)) if qps else float("nan"), "p50": ms("50"), "p90": ms("90"), "p99": ms("99"),
            "requests": int(total.group(1)) if total else 0, "non2xx": int(errors.group(1)) if errors else 0,
            "timeouts": int(timeouts.group(1)) if timeouts else 0}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--prefix", default="bench")
    parser.add_argument("--workers", default="1,2", help="comma list of worker counts (default 1,2)")
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--wrk-threads", type=int, default=1, help="wrk's own threads (it shares the 2 cores)")
    parser.add_argument("--url", default=None, help="measure a server already running here instead")
    args = parser.parse_args()
    env = {**os.environ, "STORESEARCH_PREFIX": args.prefix, "STORESEARCH_SYNC_SECONDS": "2"}
    # ~28k distinct queries exist (vocabulary × extras); asking for more never returned
    mixes = {"unique": unique_queries(20_000), "head/tail": head_tail(60_000)}
    print(f"load: prefix {args.prefix}, {args.connections} connections, {args.seconds} s per run, wrk on loopback")
    print(f"{'workers':>7} {'mix':>10} {'QPS':>8} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'p99/p50':>8} "
          f"{'non-2xx':>8} {'API CPU ms/req':>15} {'ES CPU ms/req':>14}")
    for workers in [int(w) for w in args.workers.split(",")]:
        proc = None
        url = args.url
        if url is None:
            port = free_port()
            url = f"http://127.0.0.1:{port}"
            proc = subprocess.Popen([str(REPO / ".venv/bin/search-api"), "serve", "--port", str(port),
                                     "--workers", str(workers)], env=env, cwd=REPO,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_ready(url)
            wrk(url, unique_queries(500, seed=3), seconds=3, connections=args.connections,
                threads=args.wrk_threads)  # warm-up
            for mix, queries in mixes.items():
                api = tree(proc.pid) if proc else []
                before = (cpu_seconds(api), cpu_seconds(es_pids()))
                r = wrk(url, queries, seconds=args.seconds, connections=args.connections, threads=args.wrk_threads)
                after = (cpu_seconds(api), cpu_seconds(es_pids()))
                n = max(r["requests"], 1)
                print(f"{workers:>7} {mix:>10} {r['qps']:>8.1f} {r['p50']:>8.1f} {r['p90']:>8.1f} {r['p99']:>8.1f} "
                      f"{r['p99'] / r['p50']:>8.2f} {r['non2xx'] + r['timeouts']:>8} "
                      f"{(after[0] - before[0]) * 1000 / n:>15.2f} {(after[1] - before[1]) * 1000 / n:>14.2f}",
                      flush=True)
        finally:
            if proc is not None:
                proc.terminate()
                proc.wait(timeout=60)
    return 0


if __name__ == "__main__":
    sys.exit(main())
