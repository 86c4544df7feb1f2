"""Facet counts over an answer's eligible set: the aggregations to ask for and their JSON.

Facets are disjunctive: each facet's aggregation is a `filter` aggregation applying every
selection of the request but its own (`filters.selections`), so picking a brand leaves the other
brands' counts in place while narrowing every other facet; the hits themselves carry every
selection as a `post_filter`. A value's count is therefore the answer's `meta.total` once that
value is selected (alone) in its facet. Pure: values in, values out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from search_api.core.settings import ApiSettings
from search_api.retrieval.filters import status_clause
from search_api.retrieval.params import Status

CATEGORY_NODES = 1000
"""Category paths counted per answer: every node of the sample's tree (~300) with room to spare."""

PATH_JOIN = " > "


def _terms(field: str, size: int) -> dict[str, Any]:
    return {"terms": {"field": field, "size": size, "order": [{"_count": "desc"}, {"_key": "asc"}]}}


def band_key(low: float, high: float | None) -> str:
    """A price band as the `price` filter spells it: `50-100`, `1000-`."""
    return f"{low:g}-{'' if high is None else f'{high:g}'}"


def price_bands(edges: Sequence[float]) -> list[tuple[float, float | None]]:
    """Bands from 0 to the first edge, between edges, and from the last edge up."""
    bounds = [0.0, *sorted(edges)]
    return [(low, high) for low, high in zip(bounds, [*bounds[1:], None], strict=True) if low != high]


def inner_aggregation(facet: str, settings: ApiSettings) -> dict[str, Any]:
    """What one facet counts, before the other facets' selections narrow it."""
    if facet == "brand":
        return _terms("brand", settings.facet_size)
    if facet == "color":
        return _terms("color", settings.facet_size)
    if facet == "category":
        return _terms("category_path", CATEGORY_NODES)
    if facet == "price":
        return {"range": {"field": "price", "keyed": True, "ranges": [
            {"key": band_key(low, high), "from": low, **({"to": high} if high is not None else {})}
            for low, high in price_bands(settings.facet_price_bands)]}}
    if facet == "rating":
        return {"range": {"field": "rating", "keyed": True, "ranges": [
            {"key": f"{r:g}", "from": r} for r in sorted(settings.facet_ratings, reverse=True)]}}
    if facet == "in_stock":
        return {"filters": {"filters": {"true": status_clause((Status.ON_SALE,)),
                                        "false": status_clause((Status.SOLD_OUT,))}}}
    raise ValueError(f"unknown facet {facet!r}")


def facet_aggregations(facets: Sequence[str], selections: Mapping[str, dict[str, Any]],
                       settings: ApiSettings) -> dict[str, Any]:
    """One `filter` aggregation per facet: every selection but the facet's own, then its counts."""
    out = {}
    for facet in facets:
        others = [clause for name, clause in selections.items() if name != facet]
        out[f"facet_{facet}"] = {"filter": {"bool": {"filter": others}},
                                 "aggs": {"values": inner_aggregation(facet, settings)}}
    return out


def category_tree(buckets: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Path buckets (`a`, `a > b`, …) as a tree: roots first, children under their parent, by count."""
    nodes: dict[str, dict[str, Any]] = {}
    for bucket in sorted(buckets, key=lambda b: str(b["key"]).count(PATH_JOIN)):
        path = str(bucket["key"])
        parts = path.split(PATH_JOIN)
        nodes[path] = {"value": parts[-1], "path": path, "level": len(parts), "count": bucket["doc_count"],
                       "children": []}
    roots = []
    for path, node in nodes.items():
        parent = nodes.get(path.rpartition(PATH_JOIN)[0]) if PATH_JOIN in path else None
        (parent["children"] if parent is not None else roots).append(node)
    for node in [*nodes.values(), {"children": roots}]:
        node["children"].sort(key=lambda n: (-n["count"], n["value"]))
    return roots


def render_facet(facet: str, values: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One facet's JSON from its aggregation's answer."""
    if facet == "category":
        return category_tree(values["buckets"])
    if facet in ("brand", "color"):
        return [{"value": b["key"], "count": b["doc_count"]} for b in values["buckets"]]
    if facet == "price":
        return [{"value": key, "from": b.get("from"), "to": b.get("to"), "count": b["doc_count"]}
                for key, b in values["buckets"].items()]
    if facet == "rating":
        floors = [{"value": key, "min": b.get("from"), "count": b["doc_count"]} for key, b in values["buckets"].items()]
        return sorted(floors, key=lambda f: -(f["min"] or 0))  # the strictest first, as shoppers read them
    return [{"value": key == "true", "count": b["doc_count"]} for key, b in values["buckets"].items()]


def render(facets: Sequence[str], aggregations: Mapping[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """`facets` of the answer: each asked-for facet's values and counts."""
    return {facet: render_facet(facet, aggregations[f"facet_{facet}"]["values"]) for facet in facets}


def empty(facets: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
    """The facets of an answer with no eligible product."""
    return {facet: [] for facet in facets}
