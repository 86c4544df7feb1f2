"""The displayed fields of one page of products, fetched by id.

Vector hits come from FAISS, which knows nothing about status, brand or price: `paging` filters
every leg's candidates with doc values only, which skips decompressing stored `_source` blocks
(about 3x faster for a hundred candidates); `display` then fetches `_source` for the page alone.
"""

from __future__ import annotations

from typing import Any

from elasticsearch import Elasticsearch

from indexer.index_format import engine_errors

DISPLAY_FIELDS = ["title", "title_en", "brand", "category", "color", "price", "sales", "rating", "image", "shop",
                  "status", "updated_at"]


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
