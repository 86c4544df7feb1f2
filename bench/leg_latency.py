"""Per-leg latency under concurrent searches: what the leg budgets' defaults are measured against.

    .venv/bin/python bench/leg_latency.py [--prefix bench] [--threads 1 4] [--seconds 20]

For each thread count, that many threads search the live build of a prefix back to back
(sample-vocabulary queries, the query-vector cache emptied so every encode is paid) and the two
legs are timed where they run: the keyword leg's Elasticsearch call (pool thread) and the query
encode (`STORESEARCH_SEMANTIC_BUDGET_MS` covers encode + FAISS). Prints p50 / p99 / p99.9 / max
per leg, the numbers `ApiSettings.keyword_budget_ms` and `semantic_budget_ms` are chosen from.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.latency import pct, queries  # noqa: E402
from search_api.core.settings import ApiSettings  # noqa: E402
from search_api.retrieval import hybrid, keyword, semantic  # noqa: E402
from search_api.retrieval.params import parse_search  # noqa: E402
from search_api.retrieval.runtime import Runtime  # noqa: E402


def timed(samples: dict[str, list[float]], name: str, fn):  # type: ignore[no-untyped-def]
    """`fn` wrapped so each call's wall time lands in `samples[name]` (ms)."""
    def wrapper(*args, **kwargs):  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            samples[name].append((time.perf_counter() - started) * 1000)
    return wrapper


def load(rt: Runtime, qs: list[str], threads: int, seconds: float) -> dict[str, list[float]]:
    """Searches from `threads` threads for `seconds`; per-leg samples in ms."""
    samples: dict[str, list[float]] = defaultdict(list)
    original_search, original_encode = keyword.search, semantic.encode
    keyword.search = timed(samples, "keyword", original_search)
    semantic.encode = timed(samples, "encode", original_encode)
    stop = time.monotonic() + seconds

    def worker(offset: int) -> None:
        i = offset
        while time.monotonic() < stop:
            rt.embedder.forget_queries()
            started = time.perf_counter()
            hybrid.search(rt, parse_search({"q": qs[i % len(qs)], "mode": "hybrid"}))
            samples["search"].append((time.perf_counter() - started) * 1000)
            i += threads

    try:
        pool = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
        for t in pool:
            t.start()
        for t in pool:
            t.join()
    finally:
        keyword.search, semantic.encode = original_search, original_encode
    return samples


def main() -> None:
    """Print per-leg percentiles for each thread count."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prefix", default="bench")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    settings = ApiSettings.from_env().with_(prefix=args.prefix, keyword_budget_ms=600_000, semantic_budget_ms=600_000)
    rt = Runtime(settings)
    qs = queries(500)
    hybrid.search(rt, parse_search({"q": "warm up", "mode": "hybrid"}))
    print(f"{'threads':>7} {'leg':<8} {'n':>6} {'p50 ms':>8} {'p99 ms':>8} {'p99.9':>8} {'max':>8}")
    for threads in args.threads:
        samples = load(rt, qs, threads, args.seconds)
        for name in ("keyword", "encode", "search"):
            values = samples[name]
            print(f"{threads:>7} {name:<8} {len(values):>6} {pct(values, 50):>8.1f} {pct(values, 99):>8.1f} "
                  f"{pct(values, 99.9):>8.1f} {max(values):>8.1f}")


if __name__ == "__main__":
    main()
