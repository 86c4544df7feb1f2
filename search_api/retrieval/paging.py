"""From a fused ranking to one page of products: filter, sort, cut the page, hydrate it.

Filtering happens after fusion because the vector leg cannot filter (see `hydrate`); sorting by a
field re-orders only the relevant candidates, so a price sort never surfaces a poor match.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from elasticsearch import Elasticsearch

from indexer.index_format import IndexerError
from search_api.core.errors import SearchUnavailable
from search_api.core.metrics import timed
from search_api.retrieval.hydrate import display, eligible
from search_api.retrieval.params import Mode, SearchRequest, Sort

SORT_KEYS: dict[Sort, tuple[str, bool]] = {
    Sort.PRICE_ASC: ("price", False),
    Sort.PRICE_DESC: ("price", True),
    Sort.SALES: ("sales", True),
    Sort.RATING: ("rating", True),
}
"""Field and descending? of every sort but relevance."""


@dataclass(frozen=True)
class Page:
    """The ids that passed the filters, in answer order, and the displayed fields of one page."""

    ordered: list[str]
    """Every candidate that passed the filters (its length bounds `meta.total` from below)."""
    ids: list[str]
    """The page's slice of `ordered`."""
    docs: dict[str, dict[str, Any]]
    """Id → displayed fields; a page id missing here was deleted between the legs and the fetch."""


def sort_by(ids: Sequence[str], values: Mapping[str, Mapping[str, Any]], sort: Sort) -> list[str]:
    """Re-order relevant candidates by a field; missing values go last, relevance breaks ties."""
    if sort == Sort.RELEVANCE:
        return list(ids)
    field, descending = SORT_KEYS[sort]
    present = [i for i in ids if values[i].get(field) is not None]
    missing = [i for i in ids if values[i].get(field) is None]
    present.sort(key=lambda i: values[i][field], reverse=descending)  # stable: keeps relevance order
    return present + missing


def filtered_order(es: Elasticsearch, index: str, req: SearchRequest, ranked_ids: Sequence[str]) -> list[str]:
    """The ranked candidates that pass the request's filters and are visible, in the requested order.

    Raises:
        EngineError: Elasticsearch failed.

    """
    if req.mode == Mode.KEYWORD and req.sort == Sort.RELEVANCE:
        return list(ranked_ids)  # the keyword leg applied the filters itself
    values = eligible(es, index, list(ranked_ids), req)
    return sort_by([doc_id for doc_id in ranked_ids if doc_id in values], values, req.sort)


def paginate(es: Elasticsearch, index: str, req: SearchRequest, ranked_ids: Sequence[str]) -> Page:
    """Filter and order the ranked candidates, then fetch the requested page's products.

    Raises:
        SearchUnavailable: Elasticsearch failed while filtering or fetching.

    """
    try:
        with timed("page"):
            ordered = filtered_order(es, index, req, ranked_ids)
            ids = ordered[req.offset:req.offset + req.size]
            docs = display(es, index, ids)
    except IndexerError as exc:
        raise SearchUnavailable(f"could not fetch products: {exc}") from exc
    return Page(ordered, ids, docs)
