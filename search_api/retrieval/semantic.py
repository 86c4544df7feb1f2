"""The semantic leg: the query's embedding against the vector backend (optionally bent by a profile).

The backend is the FAISS replica or Elasticsearch kNN (`knn.EsKnn`); both answer top-k with cosines
and the vectors of given ids, so everything here runs the same on either. Only kNN takes a
filter (no deleted products); on both, the eligible set applies the request's filters (`paging`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from indexer.index_format import Embedder, VectorIndex, detect_language
from search_api.core.metrics import timed
from search_api.personal.personalize import profile_ranking, rerank_neighbours
from search_api.retrieval.budget import Deadline
from search_api.retrieval.knn import EsKnn, knn_filter
from search_api.retrieval.legs import LegResult, LegState, LegStatus


def encode(embedder: Embedder, q: str) -> tuple[np.ndarray | None, LegStatus]:
    """The query's vector, or None with the reason the leg is skipped.

    A query in a language the model cannot read is skipped rather than encoded: the English
    MiniLM turns every Chinese query into the same [UNK] vector, whose neighbours are noise.
    """
    readable = embedder.readable(q)
    if not readable:
        return None, LegStatus.skip(f"model does not cover {detect_language(q)}")
    with timed("semantic_encode"):  # a remembered query vector takes microseconds
        vector = embedder.embed_query(readable)
    return vector, LegStatus(LegState.OK)


Vectors = VectorIndex | EsKnn
"""A vector backend: the FAISS replica or Elasticsearch kNN on one index version."""


def within(vectors: Vectors, deadline: Deadline) -> Vectors:
    """The backend whose Elasticsearch calls get only the time left until `deadline` (FAISS: as it is)."""
    return vectors.within(deadline.call_timeout()) if isinstance(vectors, EsKnn) and deadline.bounded else vectors


def neighbours(vectors: Vectors, query: np.ndarray, k: int,
               filter: dict[str, Any] | None = None) -> list[tuple[str, float]]:
    """Top-k (id, cosine); the eligible set applies the request's filters to both backends.

    kNN searches `filter`'s products (default: the not deleted, `knn.knn_filter`), FAISS all.
    """
    if isinstance(vectors, EsKnn):
        return vectors.search(query, k, filter=filter if filter is not None else knn_filter())
    return vectors.search(query, k)


def search(vectors: Vectors, query: np.ndarray, *, size: int, profile: np.ndarray | None = None,
           alpha: float = 0.0, gate_depth: int = 0, gate_ratio: float = 0.0,
           floor: float = -1.0, filter: dict[str, Any] | None = None) -> tuple[LegResult, LegStatus]:
    """Top `size` products by cosine to the encoded query (at least `floor`), and the leg's status.

    Below the floor a neighbour is only the least unrelated product, not a match: a query for goods
    the catalog does not hold gets none (see `relax.py` for the keyword side).

    With a `profile`, the query's top `gate_depth` neighbours that pass the relevance gate are
    re-ranked by the bent query `normalize((1-α)·q + α·u)` (see `personalize`).
    """
    if profile is None or alpha <= 0:
        hits = [h for h in neighbours(vectors, query, size, filter) if h[1] >= floor]
        return LegResult([h[0] for h in hits], [h[1] for h in hits], len(hits)), LegStatus(LegState.OK)
    hits = [h for h in neighbours(vectors, query, max(size, gate_depth), filter) if h[1] >= floor]
    ids, matrix = vectors_of(vectors, [h[0] for h in hits])
    ranked, scores = rerank_neighbours(ids, matrix, query, profile, alpha=alpha, ratio=gate_ratio, size=size)
    return LegResult(ranked, scores, len(ranked)), LegStatus(LegState.PERSONALISED)


def profile_leg(vectors: Vectors, candidates: Sequence[str], profile: np.ndarray, *,
                gate_ratio: float) -> LegResult:
    """Items like what the shopper viewed, among the keyword leg's gated candidates only."""
    ids, matrix = vectors_of(vectors, candidates)
    ranked, scores = profile_ranking(ids, matrix, profile, ratio=gate_ratio)
    return LegResult(ranked, scores, len(ranked))


def vectors_of(vectors: Vectors, ids: Sequence[str]) -> tuple[list[str], np.ndarray]:
    """The ids that have a vector in the backend, and those vectors as rows."""
    return vectors.vectors(list(ids))


def affinity(vectors: Vectors | None, ids: Sequence[str], profile: np.ndarray) -> dict[str, float]:
    """cos(profile, item) for the candidates that have vectors (none without a replica)."""
    if vectors is None or not ids:
        return {}
    found, matrix = vectors_of(vectors, ids)
    return dict(zip(found, (matrix @ profile).tolist(), strict=True)) if found else {}
