"""Personalisation: lift on generated and ESCI personas, and its latency cost, in one run.

    .venv/bin/python bench/personalisation.py --personas data/sample100k/personas.jsonl \
        [--prefix bench] [--vectors-dir data/vectors] [--esci-prefix pesci] [--esci-vectors-dir DIR]
        [--rounds 3] [--no-esci | --only-esci] [--strength 1.0]

Sample personas (`indexer sample --size 100000 --personas 80`) are searched on the live build of
`--prefix` (the same catalog: same size and seed), which is only read. Each persona's query runs
unpersonalised and personalised by its history (inline `history`, ages placed before now), in
alternating order, and `--rounds` times for latency; then by `user_id` with the same history
stored as events under `--events-prefix` (results must equal the inline ones; its latency is
counted from round 2 on, when the profile is cached as it is for a shopper's follow-up searches).
Printed per kind: preferred items in the top
10 (mean, and the ratio personalised / unpersonalised), nDCG@10 with the preference as the label,
results from outside the query's category family that entered a top 10 (and of those, ones whose
leaf category was nowhere in the unpersonalised top 10), and p50/p99 latency.

ESCI personas: for every judged dev query, a shopper who prefers the brand with the most Exact
products among the judged ones and who viewed up to 20 *other* products of that brand (none judged
for that query). Measured: that brand's relevant products in the top 10, nDCG@10 on the ESCI
judgments (drop per persona, bar ≤ 0.01), judged-irrelevant products that entered a top 10, and a
placebo: the same query personalised by the *next* persona's history (another brand), which shows
how much nDCG@10 moves per query when near-tied results are merely reordered. The ESCI catalog is
built under `--esci-prefix` unless it exists there already.
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import statistics
import sys
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from indexer.build.pipeline import BuildOptions, build  # noqa: E402
from indexer.core.es import make_client  # noqa: E402
from indexer.embedding.embedder import Embedder  # noqa: E402
from indexer.embedding.encoders import load_embedder  # noqa: E402
from indexer.sample.personas import family_of_result, is_preferred  # noqa: E402
from indexer.store.versions import alias_target  # noqa: E402
from search_api.core.settings import ApiSettings  # noqa: E402
from search_api.personal import event_store  # noqa: E402
from search_api.personal.events import Event, parse_history  # noqa: E402
from search_api.retrieval import hybrid  # noqa: E402
from search_api.retrieval.evaluation import load_judgments, ndcg_at  # noqa: E402
from search_api.retrieval.params import parse_search  # noqa: E402
from search_api.retrieval.runtime import Runtime  # noqa: E402

ESCI = REPO.parent / "shared" / "data" / "esci"
ESCI_HISTORY = 20
CONDENSE_DEPTH = 50
"""Results read per ESCI search: enough judged ones for a judged-only top 10."""


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] if ordered else float("nan")


def timed(rt: Runtime, args: dict[str, Any], history: list[dict[str, Any]] | None) -> tuple[dict, float]:
    """One search and its milliseconds, paying for the query's encode (as a new query does)."""
    rt.embedder.forget_queries()
    started = time.perf_counter()
    events = None if history is None else parse_history(history, now=datetime.now(UTC), settings=rt.settings)
    out = hybrid.search(rt, parse_search(args, history=events))
    return out, (time.perf_counter() - started) * 1000


def placed(history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    now = datetime.now(UTC)
    return [{"product_id": h["product_id"], "action": h["action"],
             "ts": (now - timedelta(hours=h.get("age_hours", 0))).isoformat()} for h in history]


def preference_ndcg(results: list[dict], preferred: dict | None) -> float:
    gains = [1.0 if is_preferred(r, preferred) else 0.0 for r in results[:10]]
    dcg = sum(g / math.log2(i + 2) for i, g in enumerate(gains))
    return dcg / sum(1 / math.log2(i + 2) for i in range(10))


def store_histories(rt: Runtime, personas: list[dict]) -> None:
    """Write every persona's history as stored events (user id = persona id) under the events prefix."""
    rt.ensure_events_template()
    now = datetime.now(UTC)
    events = [Event(p["id"], h["product_id"], h["action"], "feed", now - timedelta(hours=h["age_hours"]))
              for p in personas for h in p["history"]]
    report = event_store.write(rt.es, rt.settings, events, known=set(), refresh=True)
    assert report.accepted == len(events), report.rejected[:3]


def sample_part(rt: Runtime, personas: list[dict], rounds: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {"unpersonalised": [], "personalised": [], "user_id (cached)": []}
    rows: dict[str, list[tuple[int, int, float, float, int, int]]] = defaultdict(list)
    for p in personas[:5]:  # warm-up
        timed(rt, {"q": p["query"], "size": 10}, None)
        timed(rt, {"q": p["query"], "size": 10}, placed(p["history"]))
    for r in range(rounds):
        for i, p in enumerate(personas):
            args = {"q": p["query"], "size": 10}
            history = placed(p["history"])
            if (i + r) % 2:
                mine, t_p = timed(rt, args, history)
                base, t_b = timed(rt, args, None)
            else:
                base, t_b = timed(rt, args, None)
                mine, t_p = timed(rt, args, history)
            times["unpersonalised"].append(t_b)
            times["personalised"].append(t_p)
            stored, t_u = timed(rt, {**args, "user_id": p["id"]}, None)
            if r:  # round 0 builds the profile (cache miss); later rounds are what a shopper sees
                times["user_id (cached)"].append(t_u)
            assert [x["id"] for x in stored["results"]] == [x["id"] for x in mine["results"]]
            if r:
                continue
            before = {x["id"] for x in base["results"]}
            entered = [x for x in mine["results"]
                       if x["id"] not in before and family_of_result(x) != p["family"]]
            base_leaves = {x["category"][-1] for x in base["results"]}
            new_leaf = [x for x in entered if x["category"][-1] not in base_leaves]
            rows[p["kind"]].append((sum(is_preferred(x, p["preferred"]) for x in base["results"]),
                                    sum(is_preferred(x, p["preferred"]) for x in mine["results"]),
                                    preference_ndcg(base["results"], p["preferred"]),
                                    preference_ndcg(mine["results"], p["preferred"]), len(entered),
                                    len(new_leaf)))
            if entered:
                print(f"  {p['id']} {p['query']!r}: entered from outside {p['family']}: "
                      f"{[(x['id'], x['category'][-1]) for x in entered]}")
    print(f"{'kind':<10} {'n':>3} {'pref@10 base':>13} {'personal':>9} {'ratio':>6} "
          f"{'nDCG base':>10} {'personal':>9} {'unrelated entered':>18} {'new unrelated leaf':>19}")
    lift = [row for kind in ("category", "brand") for row in rows[kind]]
    for kind, data in [*rows.items(), ("lift (all)", lift)]:
        if not data:
            continue
        b, m = statistics.fmean(x[0] for x in data), statistics.fmean(x[1] for x in data)
        print(f"{kind:<10} {len(data):3d} {b:13.2f} {m:9.2f} {m / b if b else float('inf'):6.2f} "
              f"{statistics.fmean(x[2] for x in data):10.3f} {statistics.fmean(x[3] for x in data):9.3f} "
              f"{sum(x[4] for x in data):18d} {sum(x[5] for x in data):19d}")
    return times


def esci_personas(data: Path) -> tuple[list[dict], dict[str, dict]]:
    products = {}
    with gzip.open(data / "products.jsonl.gz", "rt", encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            products[row["id"]] = row
    by_brand: dict[str, list[str]] = defaultdict(list)
    for pid, row in products.items():
        if row.get("brand"):
            by_brand[row["brand"]].append(pid)
    out = []
    for item in load_judgments(data / "judgments-dev.json"):
        exact = Counter(products[pid]["brand"] for pid, gain in item.ratings.items()
                        if gain == 3 and pid in products and products[pid].get("brand"))
        for brand, _ in exact.most_common():
            viewed = [pid for pid in by_brand[brand] if pid not in item.ratings][:ESCI_HISTORY]
            if len(viewed) >= 3:
                out.append({"query": item.query, "brand": brand, "ratings": dict(item.ratings),
                            "history": [{"product_id": pid, "action": "view", "age_hours": 24.0 * i}
                                        for i, pid in enumerate(viewed)]})
                break
    return out, products


def esci_part(rt: Runtime, data: Path) -> None:
    personas, products = esci_personas(data)
    rows = []
    placebo = []
    for n, p in enumerate(personas):
        args = {"q": p["query"], "size": CONDENSE_DEPTH}
        base, _ = timed(rt, args, None)
        mine, _ = timed(rt, args, placed(p["history"]))
        other, _ = timed(rt, {**args, "size": 10}, placed(personas[(n + 1) % len(personas)]["history"]))
        placebo.append(ndcg_at([x["id"] for x in base["results"]][:10], p["ratings"])
                       - ndcg_at([x["id"] for x in other["results"]], p["ratings"]))
        deep_b, deep_m = [x["id"] for x in base["results"]], [x["id"] for x in mine["results"]]
        ranked_b, ranked_m = deep_b[:10], deep_m[:10]
        judged_b = [i for i in deep_b if i in p["ratings"]][:10]
        judged_m = [i for i in deep_m if i in p["ratings"]][:10]

        def preferred(ids: list[str], p: dict = p) -> int:
            return sum(p["ratings"].get(i, 0) >= 2 and products[i].get("brand") == p["brand"] for i in ids)

        irrelevant = [i for i in ranked_m if i not in ranked_b and p["ratings"].get(i, -1) == 0]
        for pid in irrelevant:  # what the bar counts, for reading: where it was, where it went, what it is
            was = deep_b.index(pid) + 1 if pid in deep_b else None
            print(f"  irrelevant entrant for {p['query']!r} (brand {p['brand']!r}): {pid} rank {was or '>50'} -> "
                  f"{ranked_m.index(pid) + 1}: {products[pid].get('brand')!r} {products[pid].get('title', '')[:70]!r}")
        rows.append((preferred(ranked_b), preferred(ranked_m), ndcg_at(ranked_b, p["ratings"]),
                     ndcg_at(ranked_m, p["ratings"]), len(irrelevant), p["query"],
                     ndcg_at(judged_b, p["ratings"]), ndcg_at(judged_m, p["ratings"])))
    drops = sorted(((r[2] - r[3], r[5]) for r in rows), reverse=True)
    b, m = statistics.fmean(r[0] for r in rows), statistics.fmean(r[1] for r in rows)
    nb, nm = statistics.fmean(r[2] for r in rows), statistics.fmean(r[3] for r in rows)
    print(f"ESCI personas {len(rows)}: preferred-brand relevant items in top 10 {b:.2f} -> {m:.2f} "
          f"(ratio {m / b if b else float('inf'):.2f}); nDCG@10 {nb:.4f} -> {nm:.4f}; "
          f"judged-irrelevant entered {sum(r[4] for r in rows)}")
    print(f"  largest nDCG drops: {[(round(d, 4), q) for d, q in drops[:3]]}; "
          f"personas dropping > 0.01: {sum(d > 0.01 for d, _ in drops)}")
    for d, q in drops:
        if d > 0.01:
            print(f"    {q!r}: -{d:.4f}")
    print(f"  placebo (each query searched with the next persona's history: another brand, mostly unrelated "
          f"products): personas dropping > 0.01: {sum(d > 0.01 for d in placebo)}, gaining > 0.01: "
          f"{sum(d < -0.01 for d in placebo)} (how far another shopper's taste moves the same query's nDCG@10)")
    condensed = sorted(((r[6] - r[7], r[5]) for r in rows), reverse=True)
    print(f"  judged-only (condensed list: unjudged products skipped, top {CONDENSE_DEPTH} searched): nDCG@10 "
          f"{statistics.fmean(r[6] for r in rows):.4f} -> {statistics.fmean(r[7] for r in rows):.4f}; "
          f"largest drops {[(round(d, 4), q) for d, q in condensed[:3]]}; "
          f"personas dropping > 0.01: {sum(d > 0.01 for d, _ in condensed)}")


def scaled(settings: ApiSettings, strength: float) -> ApiSettings:
    """The configured personalisation at `strength` × its weights (1: as configured, 0: none)."""
    if strength == 1.0:
        return settings
    print(f"personal weights scaled by {strength}")
    return settings.with_(personal_alpha=settings.personal_alpha * strength,
                          personal_brand_boost=settings.personal_brand_boost * strength,
                          personal_category_boost=settings.personal_category_boost * strength,
                          personal_max_boost=1.0 + (settings.personal_max_boost - 1.0) * strength,
                          personal_profile_weight=settings.personal_profile_weight * strength)


def sample_bench(base: ApiSettings, model: Embedder, args: argparse.Namespace) -> int:
    """The sample part: lift, unrelated entries and latency on the live `--prefix` build."""
    personas = [json.loads(line) for line in args.personas.read_text(encoding="utf-8").splitlines()]
    rt = Runtime(base.with_(prefix=args.prefix, events_prefix=args.events_prefix), embedder=model)
    live = rt.replica.current()
    if live is None or live.vectors is None:
        print(f"personalisation: no live build with vectors for prefix {args.prefix}", file=sys.stderr)
        return 2
    print(f"index {live.index}: {live.vectors.count} vectors; {len(personas)} personas")
    store_histories(rt, personas)
    try:
        times = sample_part(rt, personas, args.rounds)
    finally:
        rt.es.indices.delete(index=f"{rt.settings.events_alias}-*", ignore_unavailable=True,
                             allow_no_indices=True)
        rt.es.options(ignore_status=404).indices.delete_index_template(name=rt.settings.events_alias)
    print(f"{'latency':<15} {'n':>5} {'p50 ms':>8} {'p99 ms':>8}")
    for name, values in times.items():
        print(f"{name:<15} {len(values):5d} {pct(values, 50):8.1f} {pct(values, 99):8.1f}")
    mine, plain = times["personalised"], times["unpersonalised"]
    print(f"personalised (inline history, profile built per request) / unpersonalised: "
          f"p50 {pct(mine, 50) / pct(plain, 50):.3f}, p99 {pct(mine, 99) / pct(plain, 99):.3f}")
    cached = times["user_id (cached)"]
    print(f"personalised (user_id, cached profile) / unpersonalised: "
          f"p50 {pct(cached, 50) / pct(plain, 50):.3f}, p99 {pct(cached, 99) / pct(plain, 99):.3f}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--personas", type=Path, help="personas.jsonl of the sample (required unless --only-esci)")
    parser.add_argument("--prefix", default="bench", help="live sample build to read (never written)")
    parser.add_argument("--vectors-dir", type=Path, default=None, help="its FAISS snapshots")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--events-prefix", default="pbench",
                        help="where persona histories are stored as events (deleted afterwards)")
    parser.add_argument("--esci", type=Path, default=ESCI)
    parser.add_argument("--esci-prefix", default="pesci")
    parser.add_argument("--esci-vectors-dir", type=Path, default=None, help="default: --vectors-dir")
    parser.add_argument("--no-esci", action="store_true")
    parser.add_argument("--only-esci", action="store_true", help="skip the sample part (--personas unused)")
    parser.add_argument("--strength", type=float, default=1.0,
                        help="scale every personal weight (α, boosts, profile leg) by this: the trade-off curve")
    args = parser.parse_args()
    base = scaled(ApiSettings.from_env().with_(sync_seconds=0.0, alias_check_seconds=3600.0), args.strength)
    if args.vectors_dir:
        base = base.with_(vectors_dir=args.vectors_dir)
    model = load_embedder(base, threads=base.query_torch_threads)
    if not args.only_esci:
        if args.personas is None:
            parser.error("--personas is required unless --only-esci")
        status = sample_bench(base, model, args)
        if status:
            return status
    if args.no_esci or not (args.esci / "products.jsonl.gz").exists():
        return 0
    esci = base.with_(prefix=args.esci_prefix)
    if args.esci_vectors_dir:
        esci = esci.with_(vectors_dir=args.esci_vectors_dir)
    es = make_client(esci)
    if not alias_target(es, esci.products_alias):
        report = build(esci, es, load_embedder(esci),
                       BuildOptions(products=(args.esci / "products.jsonl.gz",), progress=False))
        print(f"built {report.products_index}: {report.accepted} products in {report.seconds:.0f} s")
    esci_part(Runtime(esci, embedder=model, es=es), args.esci)
    return 0


if __name__ == "__main__":
    sys.exit(main())
