"""Elasticsearch filter clauses shared by every leg and by hydration."""

from __future__ import annotations

from typing import Any

from indexer.index_format import HIDDEN_STATUSES
from search_api.retrieval.params import SearchRequest


def filter_clauses(req: SearchRequest) -> list[dict[str, Any]]:
    """Filters of a request: brand, category (any level of the path), price range."""
    clauses: list[dict[str, Any]] = []
    if req.brands:
        clauses.append({"terms": {"brand": list(req.brands)}})
    if req.categories:
        clauses.append({"terms": {"category": list(req.categories)}})
    if req.price_min is not None or req.price_max is not None:
        bounds = {}
        if req.price_min is not None:
            bounds["gte"] = req.price_min
        if req.price_max is not None:
            bounds["lte"] = req.price_max
        clauses.append({"range": {"price": bounds}})
    return clauses


def hidden_clause() -> dict[str, Any]:
    """The clause matching off-shelf and deleted products: they stay indexed, every query's `must_not` drops them."""
    return {"terms": {"status": list(HIDDEN_STATUSES)}}
