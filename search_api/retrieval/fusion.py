"""Rank fusion of retrieval legs.

RRF (Cormack, Clarke & Büttcher 2009): score(d) = Σ_legs w_leg / (k + rank_leg(d)) with 1-based
ranks and k = 60, as in the paper. A document absent from a leg gets nothing from it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

RRF_K = 60
"""The paper's constant; larger k flattens the advantage of top ranks."""


def rrf(rankings: Mapping[str, Sequence[str]], *, k: int = RRF_K,
        weights: Mapping[str, float] | None = None) -> list[tuple[str, float]]:
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
