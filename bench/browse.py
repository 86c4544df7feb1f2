"""What browsing costs a `/search` answer: facets, five filters, a price sort, a deep page.

    .venv/bin/python bench/browse.py --prefix browsebench [--queries 100] [--rounds 3] [--cold]

Against the live build of `--prefix` (issue 14 asks for 100k products), in one process, each
sample query (bench/latency.py's mix) is answered as `/search` answers it (hybrid + brand zone)
in six variants, in rotating order so machine noise spreads evenly:

- `plain`: the query alone; `facets`: with `facets=all`;
- `filters`: five filters taken from the query's own facets (its top brand, category root and
  price band, `rating_min=4`, `in_stock=true`), so the answer is narrowed but rarely empty;
- `facets+filters`: both; `price_asc`: sorted by price over the whole eligible set;
- `page40`: `from=780&size=20`, relevance order (past the fused candidates: a second request).

Query vectors stay cached between variants (`--cold` forgets them before every call): the
encode is the same for every variant, so leaving it out makes the ratios conservative. Prints
p50/p95/p99 per variant and each one's p50 over `plain`'s (target for `facets`: ≤ 1.3).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.latency import pct, queries  # noqa: E402
from search_api.brands.answer import answer  # noqa: E402
from search_api.core.settings import ApiSettings  # noqa: E402
from search_api.retrieval.params import parse_search  # noqa: E402
from search_api.retrieval.runtime import Runtime  # noqa: E402

VARIANTS = ("plain", "facets", "filters", "facets+filters", "price_asc", "page40")


def five_filters(rt: Runtime, q: str) -> dict[str, Any]:
    """Brand, category, price band from the query's own facets, plus a rating floor and in stock."""
    found = answer(rt, parse_search({"q": q, "facets": "brand,category,price"})).get("facets") or {}
    pick = {"brand": found.get("brand"), "category": found.get("category"),
            "price": sorted(found.get("price") or [], key=lambda f: -f["count"])}
    filters: dict[str, Any] = {"rating_min": 4, "in_stock": "true"}
    for name, values in pick.items():
        if values:
            filters[name] = values[0]["value"]
    return filters


def variant(q: str, name: str, filters: dict[str, Any]) -> dict[str, Any]:
    """The request parameters of one variant."""
    return {"plain": {"q": q}, "facets": {"q": q, "facets": "all"}, "filters": {"q": q, **filters},
            "facets+filters": {"q": q, "facets": "all", **filters}, "price_asc": {"q": q, "sort": "price_asc"},
            "page40": {"q": q, "from": 780, "size": 20}}[name]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--prefix", default="browsebench")
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--cold", action="store_true", help="forget query vectors before every call")
    args = parser.parse_args()
    rt = Runtime(ApiSettings.from_env().with_(prefix=args.prefix))
    live = rt.replica.current()
    if live is None or live.vectors is None:
        print(f"browse: no live build for prefix {args.prefix}", file=sys.stderr)
        return 2
    qs = queries(args.queries)
    filters = {q: five_filters(rt, q) for q in qs}  # also the warm-up
    times: dict[str, list[float]] = {v: [] for v in VARIANTS}
    empty = 0
    for r in range(args.rounds):
        for i, q in enumerate(qs):
            for name in VARIANTS[(i + r) % len(VARIANTS):] + VARIANTS[:(i + r) % len(VARIANTS)]:
                if args.cold:
                    rt.embedder.forget_queries()
                req = parse_search(variant(q, name, filters[q]))
                started = time.perf_counter()
                out = answer(rt, req)
                times[name].append((time.perf_counter() - started) * 1000)
                empty += name == "filters" and not out["results"]
    print(f"index {live.index}: {live.vectors.count} vectors; {len(qs)} queries × {args.rounds} rounds"
          f"{' (cold query vectors)' if args.cold else ''}; filtered answers empty: {empty}")
    base = pct(times["plain"], 50)
    print(f"{'variant':<15} {'n':>5} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'mean':>8} {'p50/plain':>10}")
    for name, values in times.items():
        print(f"{name:<15} {len(values):5d} {pct(values, 50):8.1f} {pct(values, 95):8.1f} {pct(values, 99):8.1f} "
              f"{statistics.fmean(values):8.1f} {pct(values, 50) / base:10.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
