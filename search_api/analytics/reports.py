"""Search analytics over a time window: two aggregation requests, one on the query log, one on clicks.

Shopper traffic only (`origin: search`; audit cells are left out). Impressions at position p are
the logged answers whose page showed p (`first_position ≤ p ≤ last_position`); clicks are
search-sourced `click` events carrying that answer's `query_id` and `position`. Click events copy
their query's text, language and brand keyword from the log when written, so both sides filter by
language and brand keyword without a join.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from elasticsearch import Elasticsearch

from indexer.index_format import engine_errors
from search_api.core.settings import ApiSettings

POSITIONS = 10
"""CTR by position covers the first page of a search box (positions 1–10)."""
MRR_QUERIES = 10_000
"""Answers with clicks considered for the mean reciprocal rank (the newest-first top by clicks)."""


@dataclass(frozen=True)
class Window:
    """What the analytics cover: the last `days` UTC days, optionally one language or brand keyword."""

    days: int = 7
    lang: str | None = None
    brand_keyword: str | None = None
    top: int = 20


def _filters(window: Window, since: datetime, *, lang: str, brand: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [{"range": {"ts": {"gte": since.isoformat()}}}]
    if window.lang:
        out.append({"term": {lang: window.lang}})
    if window.brand_keyword:
        out.append({"term": {brand: window.brand_keyword}})
    return out


def _terms(bucket: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"query": b["key"], "count": b["doc_count"]} for b in bucket["buckets"]]


def _query_side(es: Elasticsearch, settings: ApiSettings, window: Window, since: datetime) -> dict[str, Any]:
    top = {"terms": {"field": "q", "size": window.top}}
    positions = {str(p): {"bool": {"filter": [{"range": {"first_position": {"lte": p}}},
                                              {"range": {"last_position": {"gte": p}}}]}}
                 for p in range(1, POSITIONS + 1)}
    with engine_errors("reading the query log"):
        response = es.search(
            index=settings.queries_alias, size=0, track_total_hits=True, ignore_unavailable=True,
            allow_no_indices=True,
            query={"bool": {"filter": [{"term": {"origin": "search"}},
                                       *_filters(window, since, lang="lang", brand="brand_keyword")]}},
            aggs={"top": top, "zero": {"filter": {"term": {"zero_result": True}}, "aggs": {"q": top}},
                  "relaxed": {"filter": {"exists": {"field": "relaxed"}}, "aggs": {"q": top}},
                  "personalised": {"filter": {"term": {"personalised": True}}},
                  "per_day": {"date_histogram": {"field": "ts", "calendar_interval": "day", "format": "yyyy-MM-dd"}},
                  "shown": {"filters": {"filters": positions}}})
    return response


def _click_side(es: Elasticsearch, settings: ApiSettings, window: Window, since: datetime) -> dict[str, Any]:
    with engine_errors("reading click events"):
        return es.search(  # type: ignore[no-any-return]
            index=settings.events_alias, size=0, track_total_hits=True, ignore_unavailable=True,
            allow_no_indices=True,
            query={"bool": {"filter": [{"term": {"source": "search"}}, {"term": {"action": "click"}},
                                       {"exists": {"field": "query_id"}},
                                       *_filters(window, since, lang="query_lang", brand="query_brand_keyword")]}},
            aggs={"by_position": {"terms": {"field": "position", "size": POSITIONS * 10}},
                  "by_query": {"terms": {"field": "query", "size": window.top * 5}},
                  "first_click": {"terms": {"field": "query_id", "size": MRR_QUERIES},
                                  "aggs": {"best": {"min": {"field": "position"}}}}})


def report(es: Elasticsearch, settings: ApiSettings, window: Window, now: datetime | None = None) -> dict[str, Any]:
    """The analytics answer (see `GET /analytics` in the contract).

    Raises:
        EngineError: Elasticsearch failed.

    """
    now = now or datetime.now(UTC)
    since = (now - timedelta(days=window.days - 1)).replace(hour=0, minute=0, second=0, microsecond=0)
    queries = _query_side(es, settings, window, since)
    clicks = _click_side(es, settings, window, since)
    qa, ca = queries.get("aggregations") or {}, clicks.get("aggregations") or {}
    searches = int(queries["hits"]["total"]["value"])
    shown = {int(p): b["doc_count"] for p, b in ((qa.get("shown") or {}).get("buckets") or {}).items()}
    clicked = {int(b["key"]): b["doc_count"] for b in (ca.get("by_position") or {}).get("buckets", [])}
    per_query = {b["key"]: b["doc_count"] for b in (ca.get("by_query") or {}).get("buckets", [])}
    firsts = [b["best"]["value"] for b in (ca.get("first_click") or {}).get("buckets", []) if b["best"]["value"]]
    top = _terms(qa["top"]) if qa else []
    return {
        "window": {"from": since.isoformat(), "to": now.isoformat(timespec="seconds"), "days": window.days,
                   "lang": window.lang, "brand_keyword": window.brand_keyword},
        "searches": searches,
        "clicks": int(clicks["hits"]["total"]["value"]),
        "top_queries": [{**t, "clicks": per_query.get(t["query"], 0),
                         "ctr": round(per_query.get(t["query"], 0) / t["count"], 4)} for t in top],
        "zero_result": _terms(qa["zero"]["q"]) if qa else [],
        "relaxed": _terms(qa["relaxed"]["q"]) if qa else [],
        "ctr_by_position": [{"position": p, "impressions": shown.get(p, 0), "clicks": clicked.get(p, 0),
                             "ctr": round(clicked.get(p, 0) / shown[p], 4) if shown.get(p) else 0.0}
                            for p in range(1, POSITIONS + 1)],
        "searches_per_day": [{"day": b["key_as_string"], "count": b["doc_count"]}
                             for b in (qa.get("per_day") or {}).get("buckets", [])],
        "mrr": round(sum(1 / p for p in firsts) / len(firsts), 4) if firsts else 0.0,
        "share_personalised": round(qa["personalised"]["doc_count"] / searches, 4) if searches else 0.0,
    }
