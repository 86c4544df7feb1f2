"""Checks a built version must pass before its alias moves."""

from __future__ import annotations

from elasticsearch import Elasticsearch, helpers

from indexer.core.errors import VerificationError
from indexer.core.es import engine_errors
from indexer.format.vectors import VectorIndex

SMOKE_QUERIES = 3
"""Titles of stored products searched back; each must find its own product."""


def verify_products(es: Elasticsearch, index: str, vectors: VectorIndex, *, expected: int) -> None:
    """ES products (tombstones aside) = expected, ES ids with vectors = FAISS ids, smoke queries work.

    Raises:
        VerificationError: naming the first check that failed and by how much.

    """
    with engine_errors(f"verifying {index}"):
        es.indices.refresh(index=index)
        products = {"bool": {"must_not": [{"term": {"tombstone": True}}]}}
        count = int(es.count(index=index, query=products)["count"])
        if count != expected:
            raise VerificationError(f"{index} holds {count} products, expected {expected}")
        # ids from doc values, in index order: 3x faster than reading stored _id at 100k docs
        es_ids = {hit["fields"]["id"][0] for hit in helpers.scan(
            es, index=index, size=5000, query={"query": {"term": {"has_vector": True}},
                                               "stored_fields": "_none_", "docvalue_fields": ["id"],
                                               "sort": ["_doc"]})}
        faiss_ids = set(vectors.ids)
        if es_ids != faiss_ids:
            missing, extra = len(es_ids - faiss_ids), len(faiss_ids - es_ids)
            raise VerificationError(
                f"vector ids disagree: {missing} in ES but not FAISS, {extra} in FAISS but not ES")
        sample = es.search(index=index, size=SMOKE_QUERIES, _source=["title_tokens"],
                           query={"match_all": {}})["hits"]["hits"]
        for hit in sample:
            tokens = hit["_source"].get("title_tokens") or ""
            if not tokens:
                continue
            found = es.search(index=index, size=10, _source=False,
                              query={"match": {"title_tokens": tokens}})["hits"]["hits"]
            if hit["_id"] not in {h["_id"] for h in found}:
                raise VerificationError(f"smoke query for {hit['_id']} did not find it in {index}")
