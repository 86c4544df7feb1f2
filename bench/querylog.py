"""What the query log costs a search: /search p50/p99 with the log on vs off, in one run.

    .venv/bin/python bench/querylog.py [--prefix bench] [--queries 200] [--rounds 3]

Two Flask apps over the live build of `--prefix` (the same process, model and Elasticsearch
client), one with `STORESEARCH_QUERY_LOG` on, one off; every query is sent to both in alternating
order, each paying its encode (the query-vector cache is emptied before every call), so machine
noise falls on both alike. The log's own writes (its thread, Elasticsearch's indexing) run
concurrently, as in production, so their CPU cost shows in the on side's latency. Prints p50/p99
per side, their ratio (target ≤ 1.05) and the writer's counters; the log written goes under a
`querylog-bench` events prefix, dropped at the end. Needs ES_URL.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.latency import pct, queries  # noqa: E402
from indexer.core.es import make_client  # noqa: E402
from indexer.embedding.encoders import load_embedder  # noqa: E402
from search_api.core import daily  # noqa: E402
from search_api.core.settings import ApiSettings  # noqa: E402
from search_api.http.app import create_app  # noqa: E402
from search_api.retrieval.runtime import Runtime  # noqa: E402

EVENTS_PREFIX = "querylog-bench"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--prefix", default="bench")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    base = ApiSettings.from_env().with_(prefix=args.prefix, events_prefix=EVENTS_PREFIX)
    es, model = make_client(base), load_embedder(base)
    runtimes = {on: Runtime(base.with_(query_log=on), embedder=model, es=es) for on in (False, True)}
    clients = {on: create_app(runtime=rt).test_client() for on, rt in runtimes.items()}
    qs = queries(args.queries)
    for q in qs[:20]:
        for client in clients.values():
            client.get("/search", query_string={"q": q})
    times: dict[bool, list[float]] = {False: [], True: []}
    for r in range(args.rounds):
        for i, q in enumerate(qs):
            for on in ((False, True) if (i + r) % 2 else (True, False)):
                runtimes[on].embedder.forget_queries()
                started = time.perf_counter()
                status = clients[on].get("/search", query_string={"q": q}).status_code
                times[on].append((time.perf_counter() - started) * 1000)
                assert status == 200, status
    log = runtimes[True].query_log
    log.flush(60)
    print(f"querylog: prefix {args.prefix}, {len(qs)} queries x {args.rounds} rounds, each side")
    print(f"{'log':<4} {'p50 ms':>8} {'p99 ms':>8}")
    for on, values in times.items():
        print(f"{'on' if on else 'off':<4} {pct(values, 50):8.1f} {pct(values, 99):8.1f}")
    print(f"p50 on/off = {pct(times[True], 50) / pct(times[False], 50):.3f}   "
          f"p99 on/off = {pct(times[True], 99) / pct(times[False], 99):.3f}   writer: {log.stats()}")
    log.close()
    alias = base.queries_alias
    es.indices.delete(index=f"{alias}-*", ignore_unavailable=True, allow_no_indices=True)
    daily.drop_template(es, alias, "query log")
    return 0


if __name__ == "__main__":
    sys.exit(main())
