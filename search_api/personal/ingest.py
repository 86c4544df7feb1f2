"""`POST /events`: validate a batch, write it, and let the writers' profiles be rebuilt."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Protocol

from elasticsearch import Elasticsearch

from search_api.core.metrics import events_written
from search_api.personal import event_store
from search_api.personal.events import Event, parse_events
from search_api.personal.profile_store import ProfileService


class Services(Protocol):
    """What ingesting needs of the process (the retrieval `Runtime` is one).

    Declared here so that personalisation does not import retrieval.
    """

    settings: Any
    es: Elasticsearch
    profiles: ProfileService

    def ensure_events_template(self) -> None:
        """Install the events index template once per process."""


def ingest(rt: Services, body: Any, *, refresh: bool | str = False) -> dict[str, Any]:
    """Store a batch of events; the answer counts only what Elasticsearch acknowledged.

    Returns:
        {"accepted", "rejected": [{"index", "field", "message"}], "unknown_products", "unknown_queries"};
        unknown products (the catalog may catch up) and query ids (the log is asynchronous) are stored
        but counted.

    Raises:
        InvalidParameter / InvalidEvents: the batch was refused as a whole (nothing written).
        EngineError: Elasticsearch is unreachable or refused the whole request.

    """
    events = parse_events(body, now=datetime.now(UTC), settings=rt.settings)
    return store(rt, events, refresh=refresh)


def store(rt: Services, events: list[Event], *, refresh: bool | str = False) -> dict[str, Any]:
    """Write validated events; unknown products and unknown query ids are stored but counted.

    Raises:
        EngineError: Elasticsearch is unreachable or refused the whole request.

    """
    if not events:
        return {"accepted": 0, "rejected": [], "unknown_products": 0, "unknown_queries": 0}
    rt.ensure_events_template()
    known = event_store.known_products(rt.es, rt.settings, (e.product_id for e in events))
    asked = [e.query_id for e in events if e.query_id]
    queries = event_store.logged_queries(rt.es, rt.settings, asked)
    report = event_store.write(rt.es, rt.settings, events, known=known, refresh=refresh, queries=queries)
    rt.profiles.invalidate(report.users)
    events_written(report.accepted, len(report.rejected), report.unknown_products)
    return {"accepted": report.accepted, "rejected": report.rejected,
            "unknown_products": report.unknown_products,
            "unknown_queries": sum(1 for q in asked if q not in queries)}
