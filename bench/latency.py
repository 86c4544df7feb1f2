"""Search latency per mode, measured in one run against the live build of a prefix.

    .venv/bin/python bench/latency.py [--prefix bench] [--rounds 3]

Queries mix Chinese and English product words, brands and attributes from the sample
vocabulary. Every query runs in all three modes in rotating order, so machine noise spreads
evenly; a fourth, `answer`, is what `/search` serves: hybrid plus the brand zone (a keyword
lookup beside the organic legs and, when a brand keyword matches, the zone's own search). The
query-vector cache is emptied before every timed call, so each one pays for a new query's
encode. Also times the query encode alone, and prints the bar's ratio
hybrid p50 / (keyword p50 + encode p50). Run bench/indexing.py first for the 100k build.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from indexer.sample.data import LEAVES  # noqa: E402
from indexer.text.analysis import detect_language  # noqa: E402
from search_api.brands.answer import answer  # noqa: E402
from search_api.core.settings import ApiSettings  # noqa: E402
from search_api.retrieval import hybrid  # noqa: E402
from search_api.retrieval.knn import EsKnn  # noqa: E402
from search_api.retrieval.params import parse_search  # noqa: E402
from search_api.retrieval.runtime import Runtime  # noqa: E402

MODES = ("keyword", "semantic", "hybrid", "answer")


def run(rt: Runtime, q: str, mode: str) -> dict:
    if mode == "answer":
        return answer(rt, parse_search({"q": q, "mode": "hybrid"}))
    return hybrid.search(rt, parse_search({"q": q, "mode": mode}))


def queries(n: int, seed: int = 11) -> list[str]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        path, _en, nouns, attributes, _price = rng.choice(LEAVES)
        noun_zh, noun_en = rng.choice(nouns)
        attr = rng.choice(list(attributes.values())) if attributes else [("", "")]
        value_zh, value_en = rng.choice(attr)
        out.append(rng.choice([noun_zh, noun_en, f"{value_en} {noun_en}".strip(), f"{value_zh}{noun_zh}",
                               f"{noun_en} for {path[0] and 'home'}"]))
    return out


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--prefix", default="bench")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    rt = Runtime(ApiSettings.from_env().with_(prefix=args.prefix))
    live = rt.replica.current()
    if live is None or live.vectors is None:
        print(f"latency: no live build for prefix {args.prefix}; run bench/indexing.py", file=sys.stderr)
        return 2
    qs = queries(args.queries)
    for q in qs[:20]:  # warm-up: model, ES caches, JIT
        for mode in MODES:
            run(rt, q, mode)
    zones = sum(1 for q in qs if run(rt, q, "answer")["brand_zone"])
    times: dict[str, list[float]] = {m: [] for m in (*MODES, "encode")}
    en_times: dict[str, list[float]] = {m: [] for m in MODES}
    for r in range(args.rounds):
        for i, q in enumerate(qs):
            order = MODES[(i + r) % len(MODES):] + MODES[:(i + r) % len(MODES)]
            for mode in order:
                rt.embedder.forget_queries()
                started = time.perf_counter()
                run(rt, q, mode)
                elapsed = (time.perf_counter() - started) * 1000
                times[mode].append(elapsed)
                if detect_language(q) == "en":
                    en_times[mode].append(elapsed)
            readable = rt.embedder.readable(q)
            if readable:
                rt.embedder.forget_queries()
                started = time.perf_counter()
                rt.embedder.embed_query(readable)
                times["encode"].append((time.perf_counter() - started) * 1000)
    if isinstance(live.vectors, EsKnn):
        print(f"index {live.index}: Elasticsearch kNN ({rt.settings.knn_index}) on the products index")
    else:
        print(f"index {live.index}: {live.vectors.count} vectors ({live.vectors.manifest.factory})")
    print(f"{'mode':<9} {'n':>5} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'mean':>8}")
    for mode, values in times.items():
        print(f"{mode:<9} {len(values):5d} {pct(values, 50):8.1f} {pct(values, 95):8.1f} "
              f"{pct(values, 99):8.1f} {statistics.fmean(values):8.1f}")
    for mode, values in en_times.items():
        print(f"{mode + '/en':<9} {len(values):5d} {pct(values, 50):8.1f} {pct(values, 95):8.1f} "
              f"{pct(values, 99):8.1f} {statistics.fmean(values):8.1f}")
    # English queries only: there both legs run (Chinese ones skip the semantic leg by design)
    budget = pct(en_times["keyword"], 50) + pct(times["encode"], 50)
    print(f"hybrid p50 / (keyword p50 + encode p50), English queries = "
          f"{pct(en_times['hybrid'], 50) / budget:.3f}")
    print(f"answer p50 / hybrid p50 (the brand zone's cost; {zones} of {len(qs)} queries get a zone) = "
          f"{pct(times['answer'], 50) / pct(times['hybrid'], 50):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
