"""What 1,000 active merchandising rules cost `/search`: p50/p99 with them vs with none, on a live build.

    STORESEARCH_PREFIX=bench .venv/bin/python bench/rules.py [--rules 1000] [--queries 200] [--rounds 3]

The rules go under a rules prefix of their own (`<prefix>-rulesbench`, deleted at the end), so the
product build is only read. They are what a merchandising team would write: queries from the
sample vocabulary (the same generator as the timed queries, another seed, so many searches
match a rule and some several), a mix of kinds (pin 30%, boost 30%, hide 20%, bury 20%) and of
match kinds (exact 50%, phrase 25%, contains 25%), products drawn from the catalog, all active.

Both configurations answer each query in turn (which first alternates), through `answer()` (what
`/search` serves: hybrid plus the brand zone), in one process with one shared query-vector cache
warmed first: timings are retrieval, fusion, rules and paging, not the encode. Also prints the
share of searches that matched a rule and the matching cost alone (best of 5 passes: the machine is
shared). With this vocabulary about 90% of the searches match a rule, most of them a pin or a
move: the worst case, where nearly every search pays the rules step's filter call.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
import timeit
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.latency import pct, queries  # noqa: E402
from search_api.brands.answer import answer  # noqa: E402
from search_api.core.settings import ApiSettings  # noqa: E402
from search_api.retrieval.params import parse_search  # noqa: E402
from search_api.retrieval.runtime import Runtime  # noqa: E402
from search_api.rules import store  # noqa: E402
from search_api.rules.model import parse_rule, stored  # noqa: E402

KINDS = ["pin"] * 3 + ["boost"] * 3 + ["hide"] * 2 + ["bury"] * 2
MATCHES = ["exact"] * 2 + ["phrase", "contains"]


def catalog_ids(rt: Runtime, n: int) -> list[str]:
    """`n` product ids of the live build."""
    hits = rt.es.search(index=rt.settings.products_alias, size=n, stored_fields="_none_", docvalue_fields=["id"],
                        query={"term": {"status": "on_sale"}})["hits"]["hits"]
    return [h["fields"]["id"][0] for h in hits]


def write_rules(rt: Runtime, count: int, seed: int = 3) -> None:
    """`count` validated rules, bulk-written (a put per rule would wait for a refresh each)."""
    rng = random.Random(seed)
    products = catalog_ids(rt, 5000)
    texts = queries(count, seed=seed)
    now = datetime.now(UTC)
    actions: list[dict] = []
    for i, text in enumerate(texts):
        kind = rng.choice(KINDS)
        body = {"kind": kind, "query": text, "match": rng.choice(MATCHES), "products": rng.sample(products, 3),
                "priority": rng.randint(0, 5)}
        if kind == "pin":
            body["position"] = 1 + i % 20 * 4  # distinct positions per query: no clashes to refuse
        rule = parse_rule(body)
        actions += [{"index": {"_index": store.rules_index(rt.settings), "_id": f"r{i}"}},
                    stored(f"r{i}", rule, updated=now, revision=time.time_ns() // 1000 + i)]
    store.put(rt.es, rt.settings, "r-first", parse_rule({"kind": "hide", "query": "zzz", "products": products[:1]}))
    rt.es.bulk(operations=actions, refresh=True)


def timed(rt: Runtime, q: str) -> tuple[float, dict]:
    started = time.perf_counter()
    body = answer(rt, parse_search({"q": q}))
    return (time.perf_counter() - started) * 1000, body


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rules", type=int, default=1000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    base = ApiSettings.from_env()
    rules_prefix = f"{base.prefix}-rulesbench-{os.getpid()}"
    plain = Runtime(base.with_(rules_prefix=f"{rules_prefix}-none"))
    ruled = Runtime(base.with_(rules_prefix=rules_prefix), embedder=plain.embedder)
    try:
        write_rules(ruled, args.rules)
        index = ruled.rules.current()
        print(f"{base.products_alias}: {len(index)} rules loaded")
        qs = queries(args.queries, seed=11)
        for q in qs:  # warm: query vectors, jieba, both rule books
            timed(plain, q), timed(ruled, q)
        times: dict[str, list[float]] = {"none": [], "rules": []}
        matched = 0
        for r in range(args.rounds):
            for i, q in enumerate(qs):
                order = [("none", plain), ("rules", ruled)][:: 1 if (i + r) % 2 else -1]
                for name, rt in order:
                    ms, body = timed(rt, q)
                    times[name].append(ms)
                    matched += bool(body["meta"].get("rules")) and name == "rules"
        now = datetime.now(UTC)
        match_us = min(timeit.repeat(lambda: [index.matching(q, now) for q in qs], number=1, repeat=5)) / len(qs) * 1e6
        for name, values in times.items():
            print(f"{name:6} p50 {statistics.median(values):7.1f} ms  p99 {pct(values, 99):7.1f} ms  "
                  f"({len(values)} searches)")
        ratio = statistics.median(times["rules"]) / statistics.median(times["none"])
        print(f"p50 ratio rules/none {ratio:.3f} (target ≤ 1.1); {matched / len(times['rules']):.0%} of searches "
              f"matched a rule; matching alone {match_us:.0f} µs per query over {len(index)} rules")
    finally:
        ruled.es.indices.delete(index=f"{rules_prefix}*", ignore_unavailable=True, allow_no_indices=True)
        plain.close()
        ruled.close()


if __name__ == "__main__":
    main()
