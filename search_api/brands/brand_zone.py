"""Brand zones: when a query hits an active brand keyword, that brand's best products beside the results.

Matching is done in Python on the same analysis as queries, over the few keyword documents
Elasticsearch returns as candidates (any shared token or an exact normalised form):

- exact: the normalised query equals the keyword (or an alias);
- phrase: the keyword's tokens appear contiguously in the query's tokens;
- contains: Chinese keywords appear as a substring of the query; Latin ones have all their word
  tokens in the query, in any order (so "pillow" is not found inside "pillowcase").

A keyword's `match` is the weakest kind it accepts. Conflicts resolve deterministically: higher
`priority`, then better match (exact > phrase > contains), then the longer keyword, then
brand id and keyword id. The zone's products are the keyword's landing products first, then the
very same search path as organic results (same personalisation), filtered to the brand and its
landing categories; the organic results are not touched.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from elasticsearch import Elasticsearch, NotFoundError

from indexer.index_format import IndexerError, analyzed, detect_language, engine_errors, normalize, tokens
from search_api.retrieval.params import SearchRequest, Sort

QUALITY = {"exact": 3, "phrase": 2, "contains": 1}
ZONE_SIZE = 6
CANDIDATES = 50


@dataclass(frozen=True)
class KeywordHit:
    """An active brand keyword the query matched, and how well."""

    id: str
    keyword: str
    matched: str
    brand: str
    brand_id: str | None
    priority: int
    match: str
    """The kind of match achieved (exact | phrase | contains)."""
    landing_products: tuple[str, ...]
    landing_categories: tuple[str, ...]

    def order(self) -> tuple[Any, ...]:
        """Sort key: the winner first."""
        return (-self.priority, -QUALITY[self.match], -len(self.matched), self.brand_id or "", self.id)

    def describe(self) -> dict[str, Any]:
        """The hit as shown in `brand_zone` and in audits."""
        return {"brand": self.brand, "brand_id": self.brand_id, "keyword": self.keyword,
                "matched": self.matched, "match": self.match, "priority": self.priority}


def _contiguous(needle: list[str], hay: list[str]) -> bool:
    n = len(needle)
    return n > 0 and any(hay[i:i + n] == needle for i in range(len(hay) - n + 1))


def match_quality(query: str, keyword: str) -> str | None:
    """The best kind of match of `keyword` in `query`, or None."""
    qn, kn = normalize(query), normalize(keyword)
    if not kn:
        return None
    if qn == kn:
        return "exact"
    q_tokens, k_tokens = tokens(query), tokens(keyword)
    if _contiguous(k_tokens, q_tokens):
        return "phrase"
    if detect_language(kn) == "zh":
        return "contains" if kn in qn else None
    return "contains" if k_tokens and set(k_tokens) <= set(q_tokens) else None


def _active(now: datetime) -> list[dict[str, Any]]:
    stamp = now.isoformat()
    return [
        {"bool": {"should": [{"bool": {"must_not": {"exists": {"field": "active_from"}}}},
                             {"range": {"active_from": {"lte": stamp}}}]}},
        {"bool": {"should": [{"bool": {"must_not": {"exists": {"field": "active_to"}}}},
                             {"range": {"active_to": {"gt": stamp}}}]}},
    ]


def matching_keywords(es: Elasticsearch, alias: str, q: str, now: datetime | None = None) -> list[KeywordHit]:
    """Active keywords the query matches, winner first (empty without a brand-keyword index).

    Raises:
        EngineError: Elasticsearch failed.

    """
    qn, q_analysed = normalize(q), analyzed(q)
    should: list[dict[str, Any]] = [{"term": {"keyword_norm": qn}}, {"term": {"aliases_norm": qn}}]
    if q_analysed:
        should += [{"match": {"keyword_tokens": q_analysed}}, {"match": {"aliases_tokens": q_analysed}}]
    with engine_errors("matching brand keywords"):
        try:
            hits = es.search(index=alias, size=CANDIDATES, query={"bool": {
                "filter": _active(now or datetime.now(UTC)), "should": should, "minimum_should_match": 1}},
                _source=["id", "keyword", "aliases", "brand", "brand_id", "priority", "match",
                         "landing_products", "landing_categories"])["hits"]["hits"]
        except NotFoundError:
            return []
    found: list[KeywordHit] = []
    for hit in hits:
        src = hit["_source"]
        best: tuple[str, str] | None = None
        for form in [src["keyword"], *(src.get("aliases") or [])]:
            kind = match_quality(q, form)
            if kind and (best is None or QUALITY[kind] > QUALITY[best[0]]):
                best = (kind, form)
        if best is None or QUALITY[best[0]] < QUALITY[src.get("match") or "phrase"]:
            continue
        found.append(KeywordHit(
            id=src.get("id") or hit["_id"], keyword=src["keyword"], matched=best[1], brand=src["brand"],
            brand_id=src.get("brand_id"), priority=int(src.get("priority") or 0), match=best[0],
            landing_products=tuple(src.get("landing_products") or ()),
            landing_categories=tuple(src.get("landing_categories") or ())))
    return sorted(found, key=KeywordHit.order)


def active_keyword(es: Elasticsearch, alias: str) -> str | None:
    """Some active brand keyword (None without one): a query sure to get a zone, for warming up.

    Raises:
        EngineError: Elasticsearch failed.

    """
    with engine_errors("reading a brand keyword"):
        try:
            hits = es.search(index=alias, size=1, query={"bool": {"filter": _active(datetime.now(UTC))}},
                             _source=["keyword"])["hits"]["hits"]
        except NotFoundError:
            return None
    return str(hits[0]["_source"]["keyword"]) if hits else None


def zone_request(req: SearchRequest, hit: KeywordHit) -> SearchRequest:
    """The organic request narrowed to the winning brand (and its landing categories)."""
    return replace(req, brands=(hit.brand,), categories=hit.landing_categories or req.categories,
                   size=ZONE_SIZE, offset=0, explain=False, sort=Sort.RELEVANCE, facets=())


def wants_zone(req: SearchRequest) -> bool:
    """Only the first page of a relevance-sorted search carries a zone."""
    return not req.offset and req.sort == Sort.RELEVANCE


def zone_candidates(es: Elasticsearch, alias: str, req: SearchRequest) -> list[KeywordHit]:
    """The keywords `req` wins, winner first; none when it gets no zone or they cannot be read.

    A failure to read brand keywords never fails the search: the zone is simply absent.
    """
    if not wants_zone(req):
        return []
    try:
        return matching_keywords(es, alias, req.q)
    except IndexerError:
        return []


def build_zone(req: SearchRequest, hits: list[KeywordHit], search: Any) -> dict[str, Any] | None:
    """The `brand_zone` of a response for the `zone_candidates` hits, or None.

    `search(request, landing)` is the live search function: the zone's products are the keyword's
    landing products first (those on shelf and within the zone's filters), then what the organic
    search returns for the query narrowed to the winning brand.
    """
    if not hits or not wants_zone(req):
        return None
    winner = hits[0]
    response = search(zone_request(req, winner), winner.landing_products)
    products = response["results"]
    if not products and winner.landing_categories:  # landing set empty for this query: the brand alone
        products = search(replace(zone_request(req, winner), categories=req.categories),
                          winner.landing_products)["results"]
    zone: dict[str, Any] = {**winner.describe(), "products": products}
    if req.explain:
        zone["conflicts"] = [h.describe() for h in hits[1:]]
    return zone
