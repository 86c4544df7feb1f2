"""Prometheus metrics of the read side: what is counted, in which unit, under which labels.

Every name starts with `storesearch_` and ends with its unit (`_seconds`) or `_total`. Label values
come from closed sets (Flask rules, not raw paths; leg and step names; error codes the API
defines), so the number of series stays bounded whatever clients send. Latency buckets span
1 ms … 2 s, finest around a typical 5–50 ms search.

The metric objects live here, in the lowest layer, so retrieval, personalisation and HTTP all
record into the same ones; `metrics_export` turns them into a scrape (one process, or every
gunicorn worker through `PROMETHEUS_MULTIPROC_DIR`). Children with fixed labels are bound once
at import: a request then pays a dict lookup and an observe, a few microseconds in all.
"""

from __future__ import annotations

import time
from types import TracebackType

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, disable_created_metrics, values

disable_created_metrics()  # `_created` gauges would double the series; multiprocess scrapes have none either

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5,
                   1.0, 2.0)
"""Seconds: a cached query vector is under 1 ms, a search ~15 ms, anything past 2 s is an outage."""

STEPS = ("personal", "keyword", "semantic_encode", "semantic_search", "profile", "ranker", "page", "suggest")
"""Timed steps of one search: profile build, the legs, the second stage (features request + model),
and filter + sort + hydrate of the page; and the completion lookups of `GET /suggest`."""

LEGS = ("personal", "semantic", "keyword", "profile")
"""The legs of `meta.legs` (`search_api.retrieval.legs.LEG_ORDER`)."""

OUTCOMES = ("ok", "skipped", "failed")
LOOKUPS = ("hit", "miss", "coalesced")
"""A query vector was remembered, encoded now, or awaited while another request encoded it."""

LAST_SYNC = "storesearch_replica_last_sync_timestamp_seconds"

REGISTRY = CollectorRegistry()
"""This service's metrics (not the library's global registry, so nothing else leaks in)."""

http_request_seconds = Histogram(
    "storesearch_http_request_duration_seconds", "Time to answer a request, by Flask route and method.",
    ["route", "method"], buckets=LATENCY_BUCKETS, registry=REGISTRY)
http_requests = Counter(
    "storesearch_http_requests_total", "Answers by route, method, HTTP status and error code ('' without one).",
    ["route", "method", "status", "code"], registry=REGISTRY)
step_seconds = Histogram(
    "storesearch_search_step_duration_seconds", "Time of each step of a search (brand-zone searches included).",
    ["step"], buckets=LATENCY_BUCKETS, registry=REGISTRY)
leg_outcomes = Counter(
    "storesearch_leg_outcomes_total", "How each requested leg went: ok, skipped (by design) or failed "
    "(every search pass, brand-zone searches included).",
    ["leg", "outcome"], registry=REGISTRY)
degraded_answers = Counter(
    "storesearch_degraded_answers_total", "Answers served with some leg of the organic search failed, by cause "
    "(the failed legs, `+`-joined).",
    ["cause"], registry=REGISTRY)
query_vector_lookups = Counter(
    "storesearch_query_vector_lookups_total", "Query-vector cache lookups: hit, miss (encoded), coalesced "
    "(waited for another request's encode). Hit ratio: (hit + coalesced) / all.", ["result"], registry=REGISTRY)
events = Counter(
    "storesearch_events_total", "Viewing events Elasticsearch acknowledged (accepted) or refused (rejected).",
    ["outcome"], registry=REGISTRY)
unknown_product_events = Counter(
    "storesearch_events_unknown_products_total", "Accepted events naming a product the live index does not know.",
    registry=REGISTRY)
rate_limited = Counter(
    "storesearch_rate_limited_total", "Requests refused by a rate limit, by Flask route and limit.",
    ["route", "reason"], registry=REGISTRY)
replica_seq = Gauge(
    "storesearch_replica_applied_seq", "Change sequence number the vector replica has applied (per worker).",
    ["alias"], multiprocess_mode="liveall", registry=REGISTRY)
replica_last_sync = Gauge(
    LAST_SYNC, "Unix time of the replica's last successful change-log "
    "sync (per worker).", ["alias"], multiprocess_mode="liveall", registry=REGISTRY)
replica_changes = Counter(
    "storesearch_replica_changes_applied_total", "Upserts and removals the replica applied from the change log.",
    registry=REGISTRY)
replica_sync_failures = Counter(
    "storesearch_replica_sync_failures_total", "Change-log syncs that failed (the replica serves what it has).",
    registry=REGISTRY)
index_version = Gauge(
    "storesearch_index_version_info", "1 for the products index version a worker serves (0: served earlier).",
    ["version"], multiprocess_mode="livemax", registry=REGISTRY)

_STEP = {name: step_seconds.labels(name) for name in STEPS}
_LEG = {(leg, outcome): leg_outcomes.labels(leg, outcome) for leg in LEGS for outcome in OUTCOMES}
_LOOKUP = {result: query_vector_lookups.labels(result) for result in LOOKUPS}


class _Timed:
    """`with timed(step):` — half the cost of prometheus_client's own `Timer`, which a search uses four times."""

    __slots__ = ("_histogram", "_started")

    def __init__(self, histogram: Histogram) -> None:
        self._histogram = histogram
        self._started = 0.0

    def __enter__(self) -> None:
        self._started = time.perf_counter()

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self._histogram.observe(time.perf_counter() - self._started)


def timed(step: str) -> _Timed:
    """A context manager timing one search step; the time is recorded even when the step raises.

    Raises:
        KeyError: `step` is not one of `STEPS` (a typo must not mint a new series).

    """
    return _Timed(_STEP[step])


def leg_outcome(leg: str, outcome: str) -> None:
    """Count one leg's outcome (`LEGS` × `OUTCOMES`)."""
    _LEG[leg, outcome].inc()


def degraded(cause: str) -> None:
    """Count one answer served degraded; `cause` names the failed legs (`keyword+semantic`)."""
    degraded_answers.labels(cause).inc()


def query_vector(result: str) -> None:
    """Count one query-vector lookup (`LOOKUPS`)."""
    _LOOKUP[result].inc()


def events_written(accepted: int, rejected: int, unknown_products: int) -> None:
    """Count one events batch as Elasticsearch answered it."""
    events.labels("accepted").inc(accepted)
    events.labels("rejected").inc(rejected)
    unknown_product_events.inc(unknown_products)


def replica_synced(alias: str, seq: int, changes: int, at: float) -> None:
    """Record a successful change-log sync: the sequence now applied, how many changes, when."""
    replica_seq.labels(alias).set(seq)
    replica_last_sync.labels(alias).set(at)
    replica_changes.inc(changes)


def multiprocess_active() -> bool:
    """Whether values go to `PROMETHEUS_MULTIPROC_DIR` files (decided when prometheus_client was imported)."""
    return values.ValueClass is not values.MutexValue


def replica_serves(version: str | None, previous: str | None) -> None:
    """Record the index version a worker now serves (None: no live index).

    One process drops the old version's series; with several, a series cannot be removed from the
    shared files, so it is set to 0 (`livemax` then shows 1 while any live worker still serves it).
    """
    if previous is not None and previous != version:
        if multiprocess_active():
            index_version.labels(previous).set(0)
        else:
            index_version.remove(previous)
    if version is not None:
        index_version.labels(version).set(1)
