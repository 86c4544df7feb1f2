"""Candidate filtering and display fields, in two cheap Elasticsearch round trips.

Vector hits come from FAISS, which knows nothing about status, brand or price: `eligible` is the
one place where every leg's candidates meet the same filters. It reads doc values only
(`stored_fields: _none_`), which skips decompressing stored `_source` blocks: about 3x faster
for a hundred candidates. `display` then fetches `_source` for the page alone.
"""

from __future__ import annotations

from typing import Any

from elasticsearch import Elasticsearch

from indexer.index_format import engine_errors
from search_api.retrieval.filters import filter_clauses, hidden_clause
from search_api.retrieval.params import SearchRequest

DISPLAY_FIELDS = ["title", "title_en", "brand", "category", "price", "sales", "rating", "image", "shop"]
SORT_FIELDS = ["price", "sales", "rating"]


def eligible(es: Elasticsearch, index: str, ids: list[str], req: SearchRequest) -> dict[str, dict[str, Any]]:
    """Id → sort values for the ids that pass the request's filters and are visible.

    Raises:
        EngineError: Elasticsearch failed.

    """
    if not ids:
        return {}
    with engine_errors("filtering candidates"):
        response = es.search(
            index=index, size=len(ids), stored_fields="_none_", docvalue_fields=["id", *SORT_FIELDS],
            query={"bool": {"filter": [{"terms": {"id": ids}}, *filter_clauses(req)],
                            "must_not": [hidden_clause()]}},
        )
    out: dict[str, dict[str, Any]] = {}
    for hit in response["hits"]["hits"]:
        fields = hit.get("fields", {})
        out[fields["id"][0]] = {f: fields[f][0] for f in SORT_FIELDS if f in fields}
    return out


def display(es: Elasticsearch, index: str, ids: list[str]) -> dict[str, dict[str, Any]]:
    """Id → displayed fields of one page of results.

    Raises:
        EngineError: Elasticsearch failed.

    """
    if not ids:
        return {}
    with engine_errors("fetching products"):
        response = es.mget(index=index, ids=ids, _source=DISPLAY_FIELDS)
    return {doc["_id"]: doc["_source"] for doc in response["docs"] if doc.get("found")}
