"""The Elasticsearch client and the one boundary where its exceptions become ours."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from elasticsearch import ApiError, Elasticsearch, TransportError
from elasticsearch.serializer import OrjsonSerializer

from indexer.core.config import Settings
from indexer.core.errors import EngineError

RETRY_STATUSES = (429, 502, 503, 504)
"""Overload and restart answers worth retrying with backoff; anything else is a real error."""


def make_client(settings: Settings, **options: Any) -> Elasticsearch:
    """A client for `settings.es_url`; creating it opens no connection.

    `es_url` may name several nodes of one cluster, comma-separated: the client spreads requests
    over them and retries a request refused by a dead node's socket on another one, so losing the
    node a process talks to costs no failed request (bench/cluster_faults.py).
    `options` override or add `Elasticsearch(...)` arguments (the search API's fail-fast client
    sets its own transport, node class and retries).
    """
    hosts = [url.strip() for url in settings.es_url.split(",") if url.strip()]
    return Elasticsearch(hosts, **{
        "api_key": settings.es_api_key,
        "request_timeout": settings.request_timeout_s,
        "retry_on_status": RETRY_STATUSES,
        "retry_on_timeout": True,
        "max_retries": 3,
        # orjson encodes a bulk request ~10x faster than json; with 384 floats a document that is
        # a measurable share of the indexer's CPU, which it shares with the model.
        "serializer": OrjsonSerializer(),
        **options,
    })


def error_reason(error: Any) -> str:
    """An Elasticsearch error as one line: `type: reason (caused by type: reason)`.

    The one formatter for a whole-request failure (`engine_errors`) and a refused bulk item
    (`store.bulk`, and through it the events writer), so the same refusal reads the same everywhere.
    Anything that is not an error object (a bare string, None) is shown as it is.
    """
    if not isinstance(error, dict):
        return str(error)
    reason = f"{error.get('type')}: {error.get('reason')}"
    cause = error.get("caused_by")
    if isinstance(cause, dict):
        reason += f" (caused by {cause.get('type')}: {cause.get('reason')})"
    return reason


@contextmanager
def engine_errors(what: str) -> Iterator[None]:
    """Translate client exceptions raised while doing `what` into EngineError."""
    try:
        yield
    except ApiError as exc:
        body = exc.body if isinstance(exc.body, dict) else {}
        error = body.get("error")
        reason = error_reason(error) if isinstance(error, dict) else exc.message
        raise EngineError(f"{what} failed: HTTP {exc.meta.status} {reason}") from exc
    except TransportError as exc:
        raise EngineError(f"{what} failed: Elasticsearch unreachable ({exc.message})") from exc


def ping(es: Elasticsearch) -> str:
    """Cluster health status ('green'/'yellow'/'red'); works on every distribution.

    Raises:
        EngineError: the cluster cannot be reached.

    """
    with engine_errors("cluster health"):
        return str(es.cluster.health(timeout="5s")["status"])


def ensure_index(es: Elasticsearch, name: str, mappings: dict[str, Any]) -> None:
    """Create a one-shard bookkeeping index if missing; idempotent and safe against a concurrent creator.

    Raises:
        EngineError: Elasticsearch failed.

    """
    with engine_errors(f"creating {name}"):
        if es.indices.exists(index=name):
            return
        try:
            es.indices.create(index=name, mappings=mappings,
                              settings={"number_of_shards": 1, "auto_expand_replicas": "0-1"})
        except ApiError as exc:  # another process created it between exists and create
            if "resource_already_exists_exception" not in str(exc):
                raise
