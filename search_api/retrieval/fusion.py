"""Rank fusion of retrieval legs, and the personal tie-break on the fused list.

Two fusions (`Fusion`, chosen by `STORESEARCH_FUSION` and per request by `fusion=`):

- RRF (Cormack, Clarke & Büttcher 2009): score(d) = Σ_legs w_leg / (k + rank_leg(d)) with 1-based
  ranks and k = 60, as in the paper. Uses ranks only, so legs on different scales need no care.
- linear: score(d) = Σ_legs w_leg · minmax_leg(d), each leg's native scores (BM25F, cosine)
  min-max normalised over that leg's own candidate list to [0, 1] (a single candidate, or all
  equal, gets 1). Min-max rather than z-score: a leg's list is truncated at its top ~100, so its
  scores are far from normal, and [0, 1] keeps `semantic_weight` readable as a share.
  Unlike RRF it keeps *how much* better one candidate is than the next.

A document absent from a leg gets nothing from it in either.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from search_api.retrieval.legs import LegResult
from search_api.retrieval.params import Fusion, Mode

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


def minmax(scores: Sequence[float]) -> list[float]:
    """Scores mapped onto [0, 1] by the list's own min and max (all 1.0 when they are equal)."""
    if not scores:
        return []
    low, high = min(scores), max(scores)
    span = high - low
    return [1.0 if span <= 0 else (s - low) / span for s in scores]


def linear(results: Mapping[str, LegResult], *, weights: Mapping[str, float] | None = None) -> Ranked:
    """Fuse legs by a weighted sum of min-max normalised scores, best first; ties keep first-seen order."""
    scores: dict[str, float] = {}
    for leg, result in results.items():
        weight = 1.0 if weights is None else weights.get(leg, 1.0)
        seen: set[str] = set()
        for doc_id, norm in zip(result.ids, minmax(result.scores), strict=True):
            if doc_id not in seen:  # a duplicate counts once, at its first (best) score
                seen.add(doc_id)
                scores[doc_id] = scores.get(doc_id, 0.0) + weight * norm
    order = {doc_id: i for i, doc_id in enumerate(scores)}
    return sorted(scores.items(), key=lambda item: (-item[1], order[item[0]]))


def fuse(results: Mapping[str, LegResult], mode: Mode, *, k: int, weights: Mapping[str, float],
         fusion: Fusion = Fusion.RRF) -> Ranked:
    """One ranking from the legs' results: `fusion` in hybrid mode, else the one leg's own scores.

    A hybrid search with a single surviving leg keeps that leg's scores too (nothing to fuse).
    """
    if mode == Mode.HYBRID and len(results) > 1:
        if fusion == Fusion.LINEAR:
            return linear(results, weights=weights)
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
