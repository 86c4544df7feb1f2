"""Cost of the first query after a start, over the steady p50: what the warm-up leaves to the first shopper.

    PYTHONPATH=$PWD .venv/bin/python bench/first_query.py --prefix bench [--workers 2] [--server gunicorn] [--runs 3]

Each run starts `search-api serve` on a free loopback port against the live build of `--prefix`
(vectors in STORESEARCH_VECTORS_DIR), waits until every worker answers /healthz, times the first
/search (a query no warm-up ran), then 50 more distinct queries one after another, and prints the
first query's time over their p50, their p90, and the share of them the first was slower than: on
a busy machine one sample strays (a warm first query lands anywhere among the others; a cold one
is slower than all of them, run after run).
Every query is new, so each one pays its encode: the first is compared with what a steady uncached
query costs. The target is a ratio of at most 1.5. Loopback only; each run stops its server and is
bounded by --timeout.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.load import free_port, unique_queries  # noqa: E402

TARGET = 1.5


def wait_ready(url: str, proc: subprocess.Popen[bytes], workers: int, timeout: float) -> float:
    """Seconds until /healthz was answered by `workers` processes (each warms up before it accepts).

    Waiting for /readyz alone would time the first query while another worker is still warming
    up on the same cores: contention, not a cold path.
    """
    started = time.monotonic()
    seen: set[int] = set()
    while time.monotonic() - started < timeout:
        if proc.poll() is not None:
            raise SystemExit(f"first_query: server exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2) as answer:
                seen.add(json.load(answer)["pid"])
            if len(seen) >= workers:
                return time.monotonic() - started
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"first_query: {len(seen)} of {workers} workers up after {timeout:.0f} s")


def timed_search(url: str, q: str) -> float:
    """Milliseconds for one /search on a new connection (as a shopper's browser would open one)."""
    started = time.perf_counter()
    with urllib.request.urlopen(f"{url}/search?{urllib.parse.urlencode({'q': q})}", timeout=30) as answer:
        answer.read()
        if answer.status != 200:
            raise SystemExit(f"first_query: /search answered {answer.status}")
    return (time.perf_counter() - started) * 1000


def run(args: argparse.Namespace, queries: list[str]) -> tuple[float, float, list[float]]:
    """One start: (seconds until every worker is up, first query ms, ms of each of the next `--queries`)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "search_api.cli", "serve", "--port", str(port), "--server", args.server]
    if args.server == "gunicorn":
        command += ["--workers", str(args.workers)]
    env = {**os.environ, "STORESEARCH_PREFIX": args.prefix, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(command, env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        ready = wait_ready(url, proc, args.workers if args.server == "gunicorn" else 1, args.timeout)
        first = timed_search(url, queries[0])
        return ready, first, [timed_search(url, q) for q in queries[1:args.queries + 1]]
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--prefix", default="bench")
    parser.add_argument("--server", choices=("gunicorn", "waitress"), default="gunicorn")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--queries", type=int, default=50, help="steady queries after the first (default 50)")
    parser.add_argument("--runs", type=int, default=3, help="server starts (default 3)")
    parser.add_argument("--timeout", type=float, default=300, help="seconds a start may take (default 300)")
    args = parser.parse_args()
    print(f"first_query: prefix {args.prefix}, {args.server}"
          + (f" × {args.workers} workers" if args.server == "gunicorn" else "") + f", {args.runs} starts")
    print(f"{'run':>3} {'ready s':>8} {'first ms':>9} {'p50 ms':>7} {'p90 ms':>7} {'first/p50':>9} {'slower than':>11}")
    ratios = []
    for n in range(args.runs):
        queries = unique_queries(args.queries + 1, seed=100 + n)  # new to every process of every run
        ready, first, steady = run(args, queries)
        p50, p90 = statistics.median(steady), statistics.quantiles(steady, n=10)[-1]
        ratios.append(first / p50)
        below = sum(ms < first for ms in steady) / len(steady)  # a cold first query is slower than all of them
        print(f"{n + 1:>3} {ready:>8.1f} {first:>9.1f} {p50:>7.1f} {p90:>7.1f} {first / p50:>9.2f} {below:>10.0%}",
              flush=True)
    worst = max(ratios)
    print(f"first/p50: median {statistics.median(ratios):.2f}, worst {worst:.2f} "
          f"({'within' if worst <= TARGET else 'over'} the {TARGET}× target)")
    return 0 if worst <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
