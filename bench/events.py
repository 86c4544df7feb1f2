"""Event ingestion through the real HTTP API: sustained events/s, and nothing acknowledged lost.

    .venv/bin/python bench/events.py [--prefix bench] [--events-prefix ebench] [--seconds 30]
        [--clients 4] [--batch 500]

Starts `search-api serve` as a subprocess (waitress, 8 threads) with an API key, then `--clients`
threads post pre-encoded batches of `--batch` events (10,000 users, product ids of the 100k sample
with 1 % unknown) over keep-alive connections for `--seconds`. Prints accepted events/s, request
latency p50/p99, and the count check: documents in the events alias after a refresh must equal
the sum of `accepted` over all responses. The product index of `--prefix` is only read (to
count unknown ids); the events indices and template of `--events-prefix` are deleted before and
after (unless --keep).
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import orjson

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from indexer.core.es import make_client  # noqa: E402
from search_api.core.settings import ApiSettings  # noqa: E402

ACTIONS = ["view"] * 6 + ["click"] * 2 + ["add_to_cart", "order", "video_view", "live_view"]
SOURCES = ["feed", "search", "live", "mall"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def batches(n: int, size: int, seed: int = 3) -> list[bytes]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        events = [{"user_id": f"u{rng.randrange(10_000)}",
                   "product_id": (f"P{rng.randrange(1, 100_001):07d}" if rng.random() > 0.01
                                  else f"X{rng.randrange(10**6)}"),
                   "action": rng.choice(ACTIONS), "source": rng.choice(SOURCES),
                   "dwell_ms": rng.randrange(200, 60_000)} for _ in range(size)]
        out.append(orjson.dumps(events))
    return out


def wait_ready(port: int, proc: subprocess.Popen, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"events: server exited with {proc.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.5)
    raise SystemExit("events: server did not start")


def client(port: int, key: str, payloads: list[bytes], stop: float, out: dict, lock: threading.Lock) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Content-Type": "application/json", "X-API-Key": key}
    accepted = unknown = requests = failed = 0
    latencies = []
    i = random.randrange(len(payloads))
    while time.monotonic() < stop:
        body = payloads[i % len(payloads)]
        i += 1
        started = time.perf_counter()
        conn.request("POST", "/events", body=body, headers=headers)
        response = conn.getresponse()
        answer = orjson.loads(response.read())
        latencies.append((time.perf_counter() - started) * 1000)
        requests += 1
        if response.status in (200, 207):
            accepted += answer["accepted"]
            unknown += answer["unknown_products"]
            failed += len(answer["rejected"])
        else:
            failed += 1
            print(f"events: HTTP {response.status}: {answer}", file=sys.stderr)
    with lock:
        out["accepted"] += accepted
        out["unknown"] += unknown
        out["requests"] += requests
        out["failed"] += failed
        out["latencies"] += latencies


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--prefix", default="bench", help="product index to check ids against (read only)")
    parser.add_argument("--events-prefix", default="ebench")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--keep", action="store_true", help="keep the events indices afterwards")
    args = parser.parse_args()
    settings = ApiSettings.from_env().with_(prefix=args.prefix, events_prefix=args.events_prefix)
    es = make_client(settings)
    pattern = f"{settings.events_alias}-*"
    es.indices.delete(index=pattern, ignore_unavailable=True, allow_no_indices=True)
    port, key = free_port(), os.urandom(8).hex()
    env = {**os.environ, "STORESEARCH_PREFIX": args.prefix, "STORESEARCH_EVENTS_PREFIX": args.events_prefix,
           "STORESEARCH_API_KEY": key, "STORESEARCH_SYNC_SECONDS": "0", "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-m", "search_api.cli", "serve", "--port", str(port)],
                            env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_ready(port, proc)
        payloads = batches(64, args.batch)
        client(port, key, payloads[:2], time.monotonic() + 1.0,  # warm-up: template, connections
               {"accepted": 0, "unknown": 0, "requests": 0, "failed": 0, "latencies": []}, threading.Lock())
        es.indices.refresh(index=pattern)
        before = es.count(index=settings.events_alias)["count"]
        out = {"accepted": 0, "unknown": 0, "requests": 0, "failed": 0, "latencies": []}
        lock = threading.Lock()
        started = time.monotonic()
        stop = started + args.seconds
        threads = [threading.Thread(target=client, args=(port, key, payloads, stop, out, lock))
                   for _ in range(args.clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - started
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    es.indices.refresh(index=pattern)
    stored = es.count(index=settings.events_alias)["count"] - before
    lat = sorted(out["latencies"])
    print(f"{out['requests']} requests of {args.batch} events from {args.clients} clients in {elapsed:.1f} s")
    print(f"accepted {out['accepted']} events = {out['accepted'] / elapsed:,.0f} events/s "
          f"({out['unknown']} unknown product ids counted, {out['failed']} rejected)")
    p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))]
    print(f"request latency p50 {lat[len(lat) // 2]:.1f} ms, p99 {p99:.1f} ms")
    print(f"count check: {stored} stored vs {out['accepted']} acknowledged -> "
          f"{'OK' if stored == out['accepted'] else 'MISMATCH'}")
    if not args.keep:
        es.indices.delete(index=pattern, ignore_unavailable=True, allow_no_indices=True)
        es.options(ignore_status=404).indices.delete_index_template(name=settings.events_alias)
    return 0 if stored == out["accepted"] else 1


if __name__ == "__main__":
    sys.exit(main())
