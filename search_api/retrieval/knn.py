"""The Elasticsearch vector backend: the semantic leg as `knn` on the products index itself.

With `STORESEARCH_VECTOR_BACKEND=elasticsearch` the `embedding` field is HNSW-indexed
(`indexer.format.mappings.products`), so nearest neighbours come from the index every API node
already reads: no snapshot to load, no change log to follow, an upsert or delete is in the leg
once Elasticsearch refreshed it. `EsKnn` answers the same questions as the FAISS `VectorIndex`
(top-k with cosines, the vectors of given ids) for one concrete index version, so the legs, the
personal re-ranking and the profile leg run unchanged on either backend.

The leg's `knn` filter is the one visibility rule that holds whatever the request: never a
deleted product (`filters.gone_clause`, as in the eligible set). The request's own filters (status,
brand, category, …) are applied to the eligible set afterwards, as with FAISS, and deliberately not
inside kNN: the semantic candidates are then the same set for a search and for that search
filtered by a facet value, so a facet's count is exactly the total of the search filtered by it
(`eligible.py`, architecture decision 12). Filtering inside kNN was tried and broke that (a
category facet counted 90, the search filtered by it found 100: its kNN drew 100 candidates from
the category alone). `EsKnn.search` still takes any filter (the benchmark's exact comparisons).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from elasticsearch import Elasticsearch

from indexer.index_format import engine_errors
from search_api.retrieval.filters import gone_clause

MAX_CANDIDATES = 10_000
"""Elasticsearch's cap on `num_candidates`."""


def knn_filter() -> dict[str, Any]:
    """The semantic candidates' filter: every product but the deleted, whatever the request (module docstring)."""
    return {"bool": {"must_not": [gone_clause()]}}


def cosine(score: float) -> float:
    """The cosine behind a `cosine`-similarity kNN score, which Elasticsearch reports as (1 + cos) / 2."""
    return 2.0 * score - 1.0


class EsKnn:
    """Nearest neighbours and stored vectors of one products index version, read from Elasticsearch."""

    backend = "elasticsearch"

    def __init__(self, es: Callable[[], Elasticsearch], index: str, *, candidates_factor: float,
                 rescore_oversample: float = 0.0, timeout_s: float | None = None) -> None:
        """`es` returns the client to use now (a forked worker rebinds its replica's client).

        `rescore_oversample` > 0: an int8 graph's top k × it are re-scored with the float vectors
        (`rescore_vector`), which quantisation alone ranks only approximately.
        """
        self._es = es
        self.index = index
        self._factor = candidates_factor
        self._oversample = rescore_oversample
        self._timeout_s = timeout_s

    def within(self, timeout_s: float) -> EsKnn:
        """The same index, each call given at most `timeout_s` (a leg's remaining budget)."""
        return EsKnn(self._es, self.index, candidates_factor=self._factor, rescore_oversample=self._oversample,
                     timeout_s=timeout_s)

    def _client(self) -> Elasticsearch:
        es = self._es()
        return es.options(request_timeout=self._timeout_s) if self._timeout_s is not None else es

    def num_candidates(self, k: int) -> int:
        """HNSW candidates per shard for a top-k: `k × candidates_factor` (recall vs latency, bench/knn.py)."""
        return min(MAX_CANDIDATES, max(k, math.ceil(k * self._factor)))

    def search(self, query: np.ndarray, k: int, *, filter: dict[str, Any] | None = None) -> list[tuple[str, float]]:
        """Top-k (product id, cosine) for one normalised query vector, best first, among `filter`'s products.

        Raises:
            EngineError: Elasticsearch failed.

        """
        if k <= 0:
            return []
        knn: dict[str, Any] = {"field": "embedding", "query_vector": [float(x) for x in query], "k": k,
                               "num_candidates": self.num_candidates(k)}
        if filter is not None:
            knn["filter"] = filter
        if self._oversample > 0:
            knn["rescore_vector"] = {"oversample": self._oversample}
        with engine_errors("kNN search"):
            response = self._client().search(index=self.index, knn=knn, size=k, stored_fields="_none_",
                                              docvalue_fields=["id"], track_total_hits=False)
        return [(hit["fields"]["id"][0], cosine(float(hit["_score"]))) for hit in response["hits"]["hits"]]

    def vectors(self, product_ids: Sequence[str]) -> tuple[list[str], np.ndarray]:
        """The ids that have a vector (in the order asked), and those vectors as normalised rows.

        Raises:
            EngineError: Elasticsearch failed.

        """
        unique = list(dict.fromkeys(product_ids))
        found: dict[str, np.ndarray] = {}
        if unique:
            with engine_errors("reading product vectors"):
                response = self._client().search(
                    index=self.index, size=len(unique), stored_fields="_none_", docvalue_fields=["id", "embedding"],
                    query={"bool": {"filter": [{"ids": {"values": unique}}, {"term": {"has_vector": True}}]}})
            for hit in response["hits"]["hits"]:
                fields = hit["fields"]
                if fields.get("embedding"):
                    vector = np.asarray(fields["embedding"], dtype=np.float32).reshape(-1)  # one vector, nested
                    found[fields["id"][0]] = vector / max(float(np.linalg.norm(vector)), 1e-12)
        ids = [pid for pid in unique if pid in found]
        if not ids:
            return [], np.zeros((0, 0), dtype=np.float32)
        return ids, np.stack([found[pid] for pid in ids])
