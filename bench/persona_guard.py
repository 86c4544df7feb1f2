"""Whether a guard could keep judged-Irrelevant products out of the ESCI personas' top 10, at what lift.

    STORESEARCH_KEYWORD_BUDGET_MS=60000 STORESEARCH_SEMANTIC_BUDGET_MS=60000 \
        .venv/bin/python bench/persona_guard.py [--esci-prefix esci-eval]

Each persona (`bench/personalisation.py`) is searched unpersonalised and personalised, both with
the shipped second-stage model and `explain=true` (top 50). The guard is simulated on those two
lists: the personalised top 10 keeps, in its order, the products of the unpersonalised top 10 and
any other product only if it (a) carries a personal keyword factor > 1 (`need_factor`), (b)
has an unpersonalised model score ≥ the unpersonalised 10th's − delta, and/or (c) its leaf category
(the full path) is one of the unpersonalised top 10's: taste picks among the kinds the query found.
Printed per setting: the persona brand's relevant products in the top 10 (unpersonalised →
guarded) and the judged-Irrelevant entrants. A serving guard would need the unpersonalised
ranking beside every personalised search (one more keyword request), so it is only built if some
setting meets both bars.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.personalisation import ESCI, esci_personas, placed, timed  # noqa: E402
from search_api.core.settings import SHIPPED_RANKER, ApiSettings  # noqa: E402
from search_api.retrieval.runtime import Runtime  # noqa: E402

DELTAS = (float("inf"), 1.0, 0.5, 0.3, 0.2, 0.1, 0.05, 0.0)


def guarded(base: list[str], scores: dict[str, float | None], mine: list[tuple[str, float]], *,
            delta: float, need_factor: bool, kinds: dict[str, str] | None = None, kinds_depth: int = 10) -> list[str]:
    """The personalised top 10 with entrants from outside `base`'s top 10 admitted by the guard.

    `kinds` (id → category): an entrant's must also be one of the unpersonalised top `kinds_depth`'s.
    """
    top = set(base[:10])
    tenth = scores.get(base[9]) if len(base) >= 10 else None
    wanted = {kinds.get(i) for i in base[:kinds_depth]} if kinds is not None else None
    out = []
    for pid, factor in mine:
        score = scores.get(pid)
        near = delta == float("inf") or (tenth is not None and score is not None and score >= tenth - delta)
        kind_ok = wanted is None or kinds.get(pid) in wanted  # type: ignore[union-attr]
        if pid in top or (near and kind_ok and (factor > 1.0 or not need_factor)):
            out.append(pid)
        if len(out) == 10:
            break
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--esci", type=Path, default=ESCI)
    parser.add_argument("--esci-prefix", default="esci-eval")
    args = parser.parse_args()
    rt = Runtime(ApiSettings.from_env().with_(prefix=args.esci_prefix, ranker_model=SHIPPED_RANKER))
    personas, products = esci_personas(args.esci)
    runs: list[tuple[dict[str, Any], list[str], dict[str, float | None], list[tuple[str, float]]]] = []
    for p in personas:
        query = {"q": p["query"], "size": 50, "explain": "true"}
        base, _ = timed(rt, query, None)
        mine, _ = timed(rt, query, placed(p["history"]))
        scores = {r["id"]: r["explain"].get("ranker", {}).get("score") for r in base["results"]}
        factors = [(r["id"], float(r["explain"].get("personal", {}).get("keyword_factor", 1.0)))
                   for r in mine["results"]]
        runs.append((p, [r["id"] for r in base["results"]], scores, factors))
    print(f"{len(runs)} ESCI personas, shipped model, top 50 searched")
    leaves = {pid: " > ".join(row.get("category") or []) for pid, row in products.items()}
    parents = {pid: " > ".join((row.get("category") or [])[:-1]) for pid, row in products.items()}
    settings = [(need, None, "-", 10, delta) for need in (False, True) for delta in DELTAS]
    settings += [(True, kinds, name, depth, float("inf")) for kinds, name in ((leaves, "leaf"), (parents, "parent"))
                 for depth in (10, 12, 15, 20, 30)]
    for need_factor, kinds, kind_name, depth, delta in settings:
        if True:
            before, after, entrants = [], [], 0
            for p, base, scores, mine in runs:
                top10 = guarded(base, scores, mine, delta=delta, need_factor=need_factor, kinds=kinds,
                                kinds_depth=depth)

                def preferred(ids: list[str], p: dict[str, Any] = p) -> int:
                    return sum(p["ratings"].get(i, 0) >= 2 and products[i].get("brand") == p["brand"] for i in ids)

                before.append(preferred(base[:10]))
                after.append(preferred(top10))
                entrants += sum(i not in base[:10] and p["ratings"].get(i, -1) == 0 for i in top10)
            b, a = statistics.fmean(before), statistics.fmean(after)
            print(f"personal factor needed {need_factor!s:<5} same {kind_name:<6} as top {depth:<2} margin {delta:>4}: "
                  f"brand's relevant in top 10 "
                  f"{b:.2f} -> {a:.2f} ({a / b if b else float('inf'):.2f}x), judged-Irrelevant entrants {entrants}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
