"""Elasticsearch filter clauses shared by every leg, the eligible set and its facets.

A request's filters are kept per facet (`selections`): facets are disjunctive, so each facet's
counts apply every selection but its own (`facets.py`). Within one selection values are OR-ed,
across selections AND-ed.
"""

from __future__ import annotations

from typing import Any

from search_api.retrieval.params import SearchRequest, Status

CATEGORY_PATH_SEPARATOR = ">"
"""A `category` value holding this is a path (`家居 > 床上用品`), matched against `category_path`."""

DEFAULT_STATUSES = (Status.ON_SALE,)
"""What a shopper sees unless they ask: sold-out and off-shelf products stay out of the answer."""


def _any_of(clauses: list[dict[str, Any]]) -> dict[str, Any]:
    return clauses[0] if len(clauses) == 1 else {"bool": {"should": clauses, "minimum_should_match": 1}}


def status_clause(statuses: tuple[Status, ...]) -> dict[str, Any]:
    """Products in one of `statuses` (default: on sale); a product without a status counts as on sale."""
    wanted = statuses or DEFAULT_STATUSES
    clauses: list[dict[str, Any]] = [{"terms": {"status": [s.value for s in wanted]}}]
    if Status.ON_SALE in wanted:
        clauses.append({"bool": {"must_not": [{"exists": {"field": "status"}}]}})
    return _any_of(clauses)


def category_clause(values: tuple[str, ...]) -> dict[str, Any]:
    """Products under any of `values`: a name at any level of the path, or a path (`a > b`)."""
    paths = [" > ".join(part.strip() for part in v.split(CATEGORY_PATH_SEPARATOR))
             for v in values if CATEGORY_PATH_SEPARATOR in v]
    names = [v for v in values if CATEGORY_PATH_SEPARATOR not in v]
    clauses = ([{"terms": {"category": names}}] if names else []) + (
        [{"terms": {"category_path": paths}}] if paths else [])
    return _any_of(clauses)


def price_clause(req: SearchRequest) -> dict[str, Any] | None:
    """The price range (inclusive bounds) AND any of the price bands (low ≤ price < high)."""
    clauses: list[dict[str, Any]] = []
    if req.price_min is not None or req.price_max is not None:
        bounds = {"gte": req.price_min, "lte": req.price_max}
        clauses.append({"range": {"price": {k: v for k, v in bounds.items() if v is not None}}})
    if req.price_bands:
        clauses.append(_any_of([{"range": {"price": {"gte": low, **({"lt": high} if high is not None else {})}}}
                                for low, high in req.price_bands]))
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"bool": {"filter": clauses}}


def selections(req: SearchRequest) -> dict[str, dict[str, Any]]:
    """The request's filters by facet name (`shop` is a filter without a facet); `in_stock` is always set."""
    out: dict[str, dict[str, Any]] = {}
    if req.brands:
        out["brand"] = {"terms": {"brand": list(req.brands)}}
    if req.categories:
        out["category"] = category_clause(req.categories)
    price = price_clause(req)
    if price is not None:
        out["price"] = price
    if req.colors:
        out["color"] = {"terms": {"color": list(req.colors)}}
    if req.rating_min is not None:
        out["rating"] = {"range": {"rating": {"gte": req.rating_min}}}
    if req.shops:
        out["shop"] = {"terms": {"shop": list(req.shops)}}
    out["in_stock"] = status_clause(req.statuses)
    return out


def filter_clauses(req: SearchRequest) -> list[dict[str, Any]]:
    """Every filter of a request (status included), to AND."""
    return list(selections(req).values())


def gone_clause() -> dict[str, Any]:
    """Deleted products (tombstones): never shown, whatever the request asks."""
    return {"term": {"status": "deleted"}}

