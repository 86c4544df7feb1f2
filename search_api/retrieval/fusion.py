"""Rank fusion of retrieval legs, and the personal tie-break on the fused list.

RRF (Cormack, Clarke & Büttcher 2009): score(d) = Σ_legs w_leg / (k + rank_leg(d)) with 1-based
ranks and k = 60, as in the paper. A document absent from a leg gets nothing from it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from search_api.retrieval.legs import LegResult
from search_api.retrieval.params import Mode

Ranked = list[tuple[str, float]]
"""(id, score) pairs, best first."""

RRF_K = 60
"""The paper's constant; larger k flattens the advantage of top ranks."""


def rrf(rankings: Mapping[str, Sequence[str]], *, k: int = RRF_K,
        weights: Mapping[str, float] | None = None) -> Ranked:
    """Fuse ranked id lists into one (id, score) list, best first; ties keep first-seen order.

    Args:
        rankings: leg name → ids, best first; duplicates within a leg count once (first rank).
        k: RRF constant (1-based ranks).
        weights: leg name → multiplier (default 1.0 each).

    """
    scores: dict[str, float] = {}
    for leg, ids in rankings.items():
        weight = 1.0 if weights is None else weights.get(leg, 1.0)
        for rank, doc_id in enumerate(dict.fromkeys(ids), start=1):  # dedupe, keep first rank
            scores[doc_id] = scores.get(doc_id, 0.0) + weight / (k + rank)
    order = {doc_id: i for i, doc_id in enumerate(scores)}
    return sorted(scores.items(), key=lambda item: (-item[1], order[item[0]]))


def fuse(results: Mapping[str, LegResult], mode: Mode, *, k: int, weights: Mapping[str, float]) -> Ranked:
    """One ranking from the legs' results: RRF in hybrid mode, else the one leg's own scores.

    A hybrid search with a single surviving leg keeps that leg's scores too (nothing to fuse).
    """
    if mode == Mode.HYBRID and len(results) > 1:
        return rrf({name: leg.ids for name, leg in results.items()}, k=k, weights=weights)
    only = next(iter(results.values()), LegResult([], []))
    return list(zip(only.ids, only.scores, strict=True))


def tie_break(ranked: Ranked, affinity: Mapping[str, float], weight: float) -> Ranked:
    """Add `weight` × affinity to each score and re-sort; equal scores keep their fused order.

    A weight below the RRF gap between adjacent ranks (1/61 - 1/62 ≈ 2.6e-4) only reorders
    near-ties: taste decides between equally relevant products without overriding relevance.
    """
    order = {doc_id: i for i, (doc_id, _) in enumerate(ranked)}
    bent = ((doc_id, score + weight * affinity.get(doc_id, 0.0)) for doc_id, score in ranked)
    return sorted(bent, key=lambda item: (-item[1], order[item[0]]))
