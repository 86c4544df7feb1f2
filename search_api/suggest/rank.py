"""Suggestion order: merge sources, one suggestion per normalised text, then the shopper's favourites.

Pure: candidates in, candidates out.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Set

from search_api.suggest.sources import Candidate

PERSONAL_SHARE = 0.5
"""At most this share of the answer (rounded up) is moved up for a shopper's affinities: personal
taste reorders what matches the prefix, it never crowds out what most shoppers pick."""


def merged(candidates: Iterable[Candidate]) -> list[Candidate]:
    """Exact prefix matches before one-typo ones, each by score; the first of each normalised text."""
    seen: set[str] = set()
    out = []
    for cand in sorted(candidates, key=lambda c: (c.typo, -c.score, c.norm)):
        if cand.norm not in seen:
            seen.add(cand.norm)
            out.append(cand)
    return out


def personalised(ranked: list[Candidate], *, brands: Set[str], categories: Set[str], size: int) -> list[Candidate]:
    """The first `size`, with up to PERSONAL_SHARE of them the best-ranked ones of the shopper's brands/categories.

    A candidate is the shopper's when it matches the prefix exactly and one of its main brands or leaf
    categories is an affinity; those keep their relative order, and so do the others.
    """
    limit = math.ceil(size * PERSONAL_SHARE)
    mine = [c for c in ranked if not c.typo
            and (brands.intersection(c.brands) or categories.intersection(c.categories))][:limit]
    chosen = {id(c) for c in mine}
    rest = [c for c in ranked if id(c) not in chosen]
    return (mine + rest)[:size]
