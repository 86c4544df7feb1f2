"""From a fused ranking to one page: filter, count, facet, order and cut the eligible set.

One Elasticsearch request over the eligible set (`eligible.py`) with the request's filters as a
`post_filter` gives the exact total, every facet (`facets.py`) and either

- a sorted answer's page itself: price, sales, rating or newest over *every* eligible product,
  ties broken by relevance (keyword score, else similarity) then id; or
- for a relevance answer, which fused candidates pass the filters. The page is cut from the
  fused candidates in fused order, then from the rest of the eligible set in keyword-score order
  (then id). The legs' depths do not depend on the page, so neither does this order: page n and
  page n + 1 neither repeat nor skip a product while the index is unchanged.

A relevance page past the fused candidates costs a second request; the page's products are then
fetched by id (`hydrate.display`), while a sorted page comes with its fields.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from elasticsearch import Elasticsearch

from indexer.index_format import IndexerError, engine_errors
from search_api.core.errors import SearchUnavailable
from search_api.core.metrics import timed
from search_api.core.settings import ApiSettings
from search_api.retrieval import facets
from search_api.retrieval.filters import selections
from search_api.retrieval.hydrate import DISPLAY_FIELDS, display
from search_api.retrieval.params import SearchRequest, Sort

SORT_KEYS: dict[Sort, tuple[str, str]] = {
    Sort.PRICE_ASC: ("price", "asc"),
    Sort.PRICE_DESC: ("price", "desc"),
    Sort.SALES: ("sales", "desc"),
    Sort.RATING: ("rating", "desc"),
    Sort.NEWEST: ("updated_at", "desc"),
}
"""Field and order of every sort but relevance."""

RELEVANCE_ORDER = [{"_score": {"order": "desc"}}, {"id": {"order": "asc"}}]
"""Relevance beyond the fused candidates, and every tie: the eligible query's score, then id."""


@dataclass(frozen=True)
class Page:
    """One page of the answer, the size of the eligible set after filters, and its facets."""

    ids: list[str]
    """The page's ids in answer order."""
    docs: dict[str, dict[str, Any]]
    """Id → displayed fields; a page id missing here was deleted between the legs and the fetch."""
    total: int
    """Eligible products that pass the filters: exact."""
    facets: dict[str, list[dict[str, Any]]] | None = None
    """The asked-for facets (None when none was asked for)."""


def field_sort(sort: Sort) -> list[dict[str, Any]]:
    """A sort over the whole eligible set: the field (missing values last), then relevance, then id."""
    field, order = SORT_KEYS[sort]
    return [{field: {"order": order, "missing": "_last"}}, *RELEVANCE_ORDER]


def candidates_aggregation(ranked_ids: Sequence[str], filters: list[dict[str, Any]]) -> dict[str, Any]:
    """The fused candidates that pass the filters (the `map` hint: no global ordinals over every id)."""
    return {"filter": {"bool": {"filter": [{"ids": {"values": list(ranked_ids)}}, *filters]}},
            "aggs": {"ids": {"terms": {"field": "id", "size": len(ranked_ids), "execution_hint": "map"}}}}


def browse_body(req: SearchRequest, query: dict[str, Any], ranked_ids: Sequence[str],
                settings: ApiSettings) -> dict[str, Any]:
    """The one request counting, faceting and (for a sorted answer) paging the eligible set."""
    chosen = selections(req)
    filters = list(chosen.values())
    body: dict[str, Any] = {"query": query, "post_filter": {"bool": {"filter": filters}}, "track_total_hits": True,
                            "aggs": facets.facet_aggregations(req.facets, chosen, settings)}
    if req.sort == Sort.RELEVANCE:
        body["size"] = 0
        if ranked_ids:
            body["aggs"]["candidates"] = candidates_aggregation(ranked_ids, filters)
    else:
        body.update(from_=req.offset, size=req.size, sort=field_sort(req.sort), source=DISPLAY_FIELDS)
    return body


def tail_ids(es: Elasticsearch, index: str, query: dict[str, Any], req: SearchRequest, ranked_ids: Sequence[str],
             start: int, size: int) -> list[str]:
    """Eligible products after the fused candidates, in relevance order (`RELEVANCE_ORDER`)."""
    response = es.search(
        index=index, from_=start, size=size, stored_fields="_none_", docvalue_fields=["id"], sort=RELEVANCE_ORDER,
        query={"bool": {"must": [query], "filter": list(selections(req).values()),
                        "must_not": [{"ids": {"values": list(ranked_ids)}}]}})
    return [hit["fields"]["id"][0] for hit in response["hits"]["hits"]]


def relevance_page(es: Elasticsearch, index: str, req: SearchRequest, query: dict[str, Any],
                   ranked_ids: Sequence[str], response: Mapping[str, Any]) -> tuple[list[str], dict[str, Any]]:
    """The page's ids (fused candidates first, then the tail) and their displayed fields."""
    buckets = response["aggregations"]["candidates"]["ids"]["buckets"] if ranked_ids else []
    passing = {b["key"] for b in buckets}
    ordered = [doc_id for doc_id in ranked_ids if doc_id in passing]
    ids = ordered[req.offset:req.offset + req.size]
    total = int(response["hits"]["total"]["value"])
    if len(ids) < req.size and total > len(ordered):
        ids += tail_ids(es, index, query, req, ranked_ids, max(0, req.offset - len(ordered)), req.size - len(ids))
    return ids, display(es, index, ids)


def browse(es: Elasticsearch, index: str, req: SearchRequest, query: dict[str, Any], ranked_ids: Sequence[str],
           settings: ApiSettings) -> Page:
    """The page of the answer whose eligible set `query` matches.

    Raises:
        EngineError: Elasticsearch failed.

    """
    with engine_errors("browsing the eligible set"):
        response = es.search(index=index, **browse_body(req, query, ranked_ids, settings))
        if req.sort == Sort.RELEVANCE:
            ids, docs = relevance_page(es, index, req, query, ranked_ids, response)
        else:
            hits = response["hits"]["hits"]
            ids, docs = [h["_id"] for h in hits], {h["_id"]: h["_source"] for h in hits}
    found = facets.render(req.facets, response["aggregations"]) if req.facets else None
    return Page(ids, docs, int(response["hits"]["total"]["value"]), found)


def paginate(es: Elasticsearch, index: str, req: SearchRequest, query: dict[str, Any] | None,
             ranked_ids: Sequence[str], settings: ApiSettings) -> Page:
    """One page of the answer (empty, with empty facets, when the eligible set is).

    Raises:
        SearchUnavailable: Elasticsearch failed while browsing or fetching.

    """
    if query is None:
        return Page([], {}, 0, facets.empty(req.facets) if req.facets else None)
    try:
        with timed("page"):
            return browse(es, index, req, query, ranked_ids, settings)
    except IndexerError as exc:
        raise SearchUnavailable(f"could not fetch products: {exc}") from exc
