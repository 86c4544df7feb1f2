"""How a profile bends retrieval, as pure functions of values (no I/O).

Relevance stays first; every personal signal acts only on candidates the query itself found:
- semantic leg: `normalize((1-α)·q + α·u)` ranks the query's own top `gate_depth` neighbours
  that pass the relevance gate, so a product close to the profile but far from the query never
  enters;
- keyword leg: `function_score` filter+weight functions multiply the BM25F score of affinity
  brands/categories by `1 + boost · share`, capped at `max_boost` (matches only: the boosts sit
  on top of the query's bool, which still needs a match);
- profile leg (queries the model cannot read): cos(u, item) over the keyword leg's candidates
  that pass the relevance gate, measured against the *anchor* (the centroid of the keyword leg's
  best hits): the model cannot read "枕头", but it can read what "枕头" matched best, and so
  tell a pillow from headphones that matched only the character 头;
- tie-break: `tiebreak · cos(u, item)` added to fused scores, below any rank gap.

The relevance gate: cos(query or anchor, item) ≥ ratio × the mean cosine of the best
ANCHOR_HITS, a bar relative to how well the query's own best matches fit it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from search_api.core.settings import ApiSettings
from search_api.personal.profile import Profile

ANCHOR_HITS = 10
"""Best hits that define the gate's reference (and the anchor of an unreadable query)."""


def gate(similarity: np.ndarray, reference: float, ratio: float) -> np.ndarray:
    """Boolean mask of the candidates relevant enough to personalise."""
    return similarity >= ratio * reference


def anchor(matrix: np.ndarray) -> np.ndarray | None:
    """Normalised centroid of the best hits' vectors (None without any)."""
    if not len(matrix):
        return None
    centroid = matrix[:ANCHOR_HITS].sum(axis=0)
    norm = float(np.linalg.norm(centroid))
    return (centroid / norm).astype(np.float32) if norm > 1e-9 else None


def bend(query: np.ndarray, profile: np.ndarray, alpha: float) -> np.ndarray:
    """`normalize((1-α)·q + α·u)`; the query alone when the sum vanishes."""
    mixed = (1.0 - alpha) * query + alpha * profile
    norm = float(np.linalg.norm(mixed))
    return (mixed / norm).astype(np.float32) if norm > 1e-9 else query


def keyword_functions(profile: Profile, settings: ApiSettings) -> list[dict[str, Any]]:
    """`function_score` functions: one filter+weight per affinity brand and category."""
    functions: list[dict[str, Any]] = []
    if settings.personal_brand_boost > 0:
        functions += [{"filter": {"term": {"brand": brand}},
                       "weight": round(1.0 + settings.personal_brand_boost * share, 6)}
                      for brand, share in profile.brands]
    if settings.personal_category_boost > 0:
        functions += [{"filter": {"term": {"category_leaf": category}},
                       "weight": round(1.0 + settings.personal_category_boost * share, 6)}
                      for category, share in profile.categories]
    return functions


def boosted(query: dict[str, Any], functions: list[dict[str, Any]], max_boost: float) -> dict[str, Any]:
    """Wrap a keyword query so matching affinity functions multiply its score (capped)."""
    if not functions:
        return query
    return {"function_score": {"query": query, "functions": functions, "score_mode": "multiply",
                               "boost_mode": "multiply", "max_boost": max_boost}}


def keyword_factor(brand: str | None, category: str | None, profile: Profile,
                   settings: ApiSettings) -> tuple[float, list[str]]:
    """The factor `boosted` applied to one product, and why (for `explain`)."""
    factor, reasons = 1.0, []
    for name, share in profile.brands:
        if name == brand and settings.personal_brand_boost > 0:
            factor *= 1.0 + settings.personal_brand_boost * share
            reasons.append(f"brand affinity {share:.2f} ({name})")
    for name, share in profile.categories:
        if name == category and settings.personal_category_boost > 0:
            factor *= 1.0 + settings.personal_category_boost * share
            reasons.append(f"category affinity {share:.2f} ({name})")
    return min(factor, settings.personal_max_boost), reasons


def rerank_neighbours(ids: Sequence[str], matrix: np.ndarray, query: np.ndarray, profile: np.ndarray, *,
                      alpha: float, ratio: float, size: int) -> tuple[list[str], list[float]]:
    """Gate the query's neighbours (best first; rows of `matrix`), order them by the bent query.

    Returns the best `size` (ids, bent cosines).
    """
    if not len(ids):
        return [], []
    similarity = matrix @ query
    keep = np.flatnonzero(gate(similarity, float(similarity[:ANCHOR_HITS].mean()), ratio))
    scores = matrix[keep] @ bend(query, profile, alpha)
    order = np.argsort(-scores, kind="stable")[:size]
    return [ids[keep[i]] for i in order], [float(scores[i]) for i in order]


def profile_ranking(ids: Sequence[str], matrix: np.ndarray, profile: np.ndarray, *,
                    ratio: float) -> tuple[list[str], list[float]]:
    """Keyword candidates (best first; rows of `matrix`) that pass the anchor gate, by cos(profile)."""
    centre = anchor(matrix)
    if centre is None:
        return [], []
    similarity = matrix @ centre
    keep = np.flatnonzero(gate(similarity, float(similarity[:ANCHOR_HITS].mean()), ratio))
    scores = matrix[keep] @ profile
    order = np.argsort(-scores, kind="stable")
    return [ids[keep[i]] for i in order], [float(scores[i]) for i in order]
