"""Viewing events in Elasticsearch: one index per UTC day behind an alias (`core/daily.py`).

Every `<events_prefix>-events-YYYY.MM.DD` index gets its mapping (`mappings/events.json`) and the
alias from an index template when a bulk write first creates it. Writes are
append-only (`create` with generated ids) and acknowledged per item: only what Elasticsearch
accepted is counted, items it pushed back with 429 are retried with backoff, anything else it
refused is reported with its batch index. Dropping a day is deleting one index, not a
delete-by-query over billions of documents.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from elasticsearch import Elasticsearch

from indexer.index_format import bulk_append, engine_errors, mappings
from search_api.core import daily
from search_api.core.settings import ApiSettings
from search_api.personal.events import Event

RETRIES = 3
"""Retries of events answered 429, starting BACKOFF_S apart: a client waits for the answer."""
BACKOFF_S = 0.25


def events_prefix(settings: ApiSettings) -> str:
    """`<events_prefix>-events`: the alias, and the stem of every daily index."""
    return settings.events_alias


def day_index(settings: ApiSettings, day: date) -> str:
    """The index holding events whose UTC timestamp falls on `day`."""
    return daily.day_index(events_prefix(settings), day)


def index_day(settings: ApiSettings, name: str) -> date | None:
    """The day of a daily events index (None for a name that only looks like one)."""
    return daily.index_day(events_prefix(settings), name)


def ensure_template(es: Elasticsearch, settings: ApiSettings) -> None:
    """Install (or refresh) the index template of the daily events indices; idempotent.

    Raises:
        EngineError: Elasticsearch refused it.

    """
    daily.ensure_template(es, events_prefix(settings), mappings.load(settings.mappings_dir, "events"), "events")


def drop_template(es: Elasticsearch, settings: ApiSettings) -> None:
    """Remove the index template (tests and benchmarks cleaning up after themselves)."""
    daily.drop_template(es, events_prefix(settings), "events")


def known_products(es: Elasticsearch, settings: ApiSettings, ids: Iterable[str]) -> set[str]:
    """Which of `ids` exist in the live product index (none when there is no index yet).

    Raises:
        EngineError: Elasticsearch failed.

    """
    unique = sorted(set(ids))
    if not unique:
        return set()
    with engine_errors("checking product ids"):
        response = es.search(index=settings.products_alias, size=len(unique), stored_fields="_none_",
                             docvalue_fields=["id"], query={"ids": {"values": unique}},
                             ignore_unavailable=True, allow_no_indices=True)
    return {hit["fields"]["id"][0] for hit in response["hits"]["hits"]}


RECENT_QUERY_DAYS = 2
"""Days of query-log indices read with real-time gets (today's and yesterday's, for clicks around midnight)."""
QUERY_FIELDS = ["q", "lang", "brand_keyword"]


def logged_queries(es: Elasticsearch, settings: ApiSettings, ids: Iterable[str],
                   now: datetime | None = None) -> dict[str, dict[str, Any]]:
    """Query id → the logged query's `q`, `lang` and `brand_keyword`, for the ids the log holds.

    Recent days are read with real-time gets: a shopper clicks a second after the answer, before
    the log's index refreshed, and a search would miss the record (the click then never counts for
    its query). Older ids are searched.

    Raises:
        EngineError: Elasticsearch failed.

    """
    unique = sorted(set(ids))
    if not unique:
        return {}
    found: dict[str, dict[str, Any]] = {}
    today = (now or datetime.now(UTC)).date()
    with engine_errors("checking query ids"):
        for back in range(RECENT_QUERY_DAYS):
            missing = [q for q in unique if q not in found]
            if not missing:
                return found
            index = daily.day_index(settings.queries_alias, today - timedelta(days=back))
            docs = es.mget(index=index, ids=missing, source=QUERY_FIELDS).get("docs", [])
            found.update({doc["_id"]: doc["_source"] for doc in docs if doc.get("found")})  # absent index: no "found"
        missing = [q for q in unique if q not in found]
        if missing:
            response = es.search(index=settings.queries_alias, size=len(missing), source=QUERY_FIELDS,
                                 query={"ids": {"values": missing}}, ignore_unavailable=True, allow_no_indices=True)
            found.update({hit["_id"]: hit["_source"] for hit in response["hits"]["hits"]})
    return found


@dataclass
class WriteReport:
    """What one batch wrote: `accepted` were acknowledged by Elasticsearch, `rejected` were not."""

    accepted: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)
    unknown_products: int = 0
    users: set[str] = field(default_factory=set)


def _doc(event: Event, known: bool, received: str, query: dict[str, Any] | None = None) -> dict[str, Any]:
    doc: dict[str, Any] = {"user_id": event.user_id, "product_id": event.product_id,
                           "action": event.action, "source": event.source,
                           "ts": event.ts.isoformat(timespec="milliseconds"),
                           "known_product": known, "received_at": received}
    if event.dwell_ms is not None:
        doc["dwell_ms"] = event.dwell_ms
    if event.query_id is not None:
        doc["query_id"] = event.query_id
        if event.position is not None:
            doc["position"] = event.position
        if query:
            doc.update(query=query.get("q"), query_lang=query.get("lang"),
                       query_brand_keyword=query.get("brand_keyword"))
    return doc


def write(es: Elasticsearch, settings: ApiSettings, events: Sequence[Event], *, known: set[str],
          refresh: bool | str = False, queries: dict[str, dict[str, Any]] | None = None) -> WriteReport:
    """Append events to their daily indices; count per item what Elasticsearch accepted.

    Args:
        es: client.
        settings: names of the indices.
        events: validated events.
        known: product ids that exist (the others are written but counted as unknown).
        queries: logged queries by id (`logged_queries`), copied onto the events tied to them.
        refresh: False, True or "wait_for" (read-your-writes for tests and small clients).

    Raises:
        EngineError: Elasticsearch is unreachable or refused the whole request.

    """
    received = datetime.now(UTC).isoformat(timespec="milliseconds")
    found = queries or {}
    docs = [(day_index(settings, e.ts.date()), _doc(e, e.product_id in known, received, found.get(e.query_id or "")))
            for e in events]
    bulk = bulk_append(es, docs, what="writing events", refresh=refresh, retries=RETRIES, backoff_s=BACKOFF_S)
    refused = {f.position for f in bulk.failures}
    return WriteReport(
        accepted=bulk.written,
        rejected=[{"index": f.position, "field": None, "message": f.reason} for f in bulk.failures],
        unknown_products=sum(1 for e in events if e.product_id not in known),
        users={e.user_id for i, e in enumerate(events) if i not in refused})


def recent(es: Elasticsearch, settings: ApiSettings, user_id: str, *, limit: int,
           since: datetime) -> tuple[list[Event], int]:
    """The user's newest `limit` events since `since` (newest first) and how many the window holds.

    Raises:
        EngineError: Elasticsearch failed.

    """
    with engine_errors("reading events"):
        response = es.search(
            index=f"{events_prefix(settings)}-*", size=limit, ignore_unavailable=True,
            allow_no_indices=True, stored_fields="_none_", track_total_hits=True,
            docvalue_fields=["product_id", "action", {"field": "ts", "format": "epoch_millis"}],
            query={"bool": {"filter": [{"term": {"user_id": user_id}},
                                       {"range": {"ts": {"gte": since.isoformat()}}}]}},
            sort=[{"ts": "desc"}])
    events = []
    for hit in response["hits"]["hits"]:
        f = hit["fields"]
        events.append(Event(user_id, f["product_id"][0], f["action"][0], "",
                            datetime.fromtimestamp(float(f["ts"][0]) / 1000, UTC)))
    return events, int(response["hits"]["total"]["value"])


def drop_older_than(es: Elasticsearch, settings: ApiSettings, days: int, *, today: date | None = None,
                    dry_run: bool = False) -> list[str]:
    """Delete daily events indices of days before `today - days` (UTC); returns their names, oldest first.

    Raises:
        EngineError: Elasticsearch failed.

    """
    return daily.drop_older_than(es, events_prefix(settings), days, "events", today=today, dry_run=dry_run)
