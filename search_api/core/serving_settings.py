"""Serving settings: the HTTP server, hardening, access, rate limits, metrics and failure handling.

The part of `ApiSettings` about how the API is served rather than what it answers; `ApiSettings`
extends it (one frozen settings object, one environment map).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import Field, SecretStr, field_validator

from indexer.index_format import Settings
from search_api.core.rates import parse_rate

ORIGIN = re.compile(r"https?://[a-z0-9.-]+(:[0-9]{1,5})?|https?://\[[0-9a-f:.]+\](:[0-9]{1,5})?")
"""A serialised browser origin: scheme, host (or bracketed IPv6) and an optional port."""


class ServingSettings(Settings):
    """How the search API is served and protected."""

    ENV: ClassVar[dict[str, str]] = {
        **Settings.ENV,
        "cors_origins": "STORESEARCH_CORS_ORIGINS", "max_body_bytes": "STORESEARCH_MAX_BODY_BYTES",
        "max_json_depth": "STORESEARCH_MAX_JSON_DEPTH",
        "metrics": "STORESEARCH_METRICS",
        "api_keys_file": "STORESEARCH_API_KEYS_FILE", "trusted_proxies": "STORESEARCH_TRUSTED_PROXIES",
        "rate_search": "STORESEARCH_RATE_SEARCH", "rate_search_keyed": "STORESEARCH_RATE_SEARCH_KEYED",
        "rate_events": "STORESEARCH_RATE_EVENTS", "rate_events_keyed": "STORESEARCH_RATE_EVENTS_KEYED",
        "rate_suggest": "STORESEARCH_RATE_SUGGEST", "rate_suggest_keyed": "STORESEARCH_RATE_SUGGEST_KEYED",
        "keyword_budget_ms": "STORESEARCH_KEYWORD_BUDGET_MS", "semantic_budget_ms": "STORESEARCH_SEMANTIC_BUDGET_MS",
        "es_connect_timeout_ms": "STORESEARCH_ES_CONNECT_TIMEOUT_MS",
        "es_breaker_failures": "STORESEARCH_ES_BREAKER_FAILURES",
        "es_breaker_reset_s": "STORESEARCH_ES_BREAKER_RESET_S",
        "api_server": "STORESEARCH_SERVER", "api_workers": "STORESEARCH_WORKERS",
        "api_threads": "STORESEARCH_THREADS", "graceful_timeout_s": "STORESEARCH_GRACEFUL_TIMEOUT_S",
        "api_host": "STORESEARCH_HOST", "api_port": "STORESEARCH_PORT",
        "cookie_signing_key": "STORESEARCH_SESSION_SECRET", "personas_file": "STORESEARCH_PERSONAS_FILE",
    }

    api_host: str = "127.0.0.1"
    api_port: int = Field(8000, ge=1, le=65535)
    # --- HTTP hardening (search_api/http/)
    # Browser origins allowed to call the API cross-origin (`https://shop.example`); none by default.
    cors_origins: tuple[str, ...] = ()
    # A full events batch (1,000 events of ~200 bytes) is ~0.2 MB; anything near 8 MB is abuse.
    max_body_bytes: int = Field(8 * 1024 * 1024, ge=1024, le=1024 * 1024 * 1024)
    # The deepest legitimate body (an audit's personas[].history[]) nests 5 levels.
    max_json_depth: int = Field(32, ge=2, le=512)
    # --- pages (http/pages.py): the dashboard session's signing key (unset: random per start, shared
    # by gunicorn's forked workers); the sample shoppers (`indexer sample --personas N`) the page offers.
    cookie_signing_key: SecretStr | None = None
    personas_file: Path | None = None
    # --- metrics (search_api/core/metrics.py)
    # GET /metrics: `on` for anyone who can reach the port, `key` for API-key holders, `off` a 404.
    # On by default: the series are aggregates with bounded labels (no query text, user ids or
    # Elasticsearch messages), /healthz already shows the index version and replica state, the
    # server binds 127.0.0.1 unless told otherwise, and Prometheus scrapes without a secret. A
    # deployment that exposes the port beyond its network blocks /metrics at the proxy or sets `key`.
    metrics: Literal["on", "off", "key"] = "on"
    # --- access control and rate limits (search_api/http/access.py)
    # JSON lines {"id", "hash", "scopes"} written by `search-api keys`; re-read when it changes.
    api_keys_file: Path | None = None
    # Proxies in front of the API that append to X-Forwarded-For; 0 trusts no such header.
    trusted_proxies: int = Field(0, ge=0, le=16)
    # Token buckets per route class (`core/rates.py` grammar), per client address for callers
    # without a valid key and per key otherwise. Per worker process. The defaults are a safety net
    # against runaway clients, above what bench/load.py sends from one address (~300/s): set
    # real ones for production.
    rate_search: str = "500/s burst 1000"
    rate_search_keyed: str = "2000/s burst 4000"
    # Without a valid key /events answers 401: this only slows down key guessing.
    rate_events: str = "20/s burst 40"
    rate_events_keyed: str = "200/s burst 400"
    # /suggest runs on every keystroke (a search box sends ~5 per search): its own, larger buckets.
    rate_suggest: str = "1000/s burst 2000"
    rate_suggest_keyed: str = "4000/s burst 8000"
    # --- degraded, not down (search_api/retrieval/schedule.py, es_guard.py)
    # Per-leg time budgets from the start of a hybrid search; a leg over its budget is `failed:
    # timeout` and the answer is the other leg's (`meta.degraded`); a leg that alone can answer
    # has none (see `retrieval/schedule.py`). bench/leg_latency.py on the 2-core
    # machine at load average ~14 (other jobs), 5k sample, 4 searching threads: keyword leg p50 34 /
    # p99 181 / max 197 ms, query encode p50 142 / p99 514 / max 619 ms (quiet machine, README:
    # keyword p50 5.7, encode 9.3 ms). The budgets are ~5× and ~2.5× those worst loaded tails, so
    # only a stall (a hung node, a GC pause, a stuck model) cuts a leg, and both stay well under
    # the 2 s a shopper waits at most.
    keyword_budget_ms: int = Field(1000, ge=10, le=600_000)
    semantic_budget_ms: int = Field(1500, ge=10, le=600_000)
    # Connecting takes < 1 ms on a LAN; a host that drops packets would otherwise hold a search
    # for the whole request timeout. Reads keep `request_timeout_s` (slow queries are not cut).
    es_connect_timeout_ms: int = Field(500, ge=1, le=60_000)
    # Calls in a row that could not connect (each already retried by the client) or were answered
    # 502/503/504 before searches fail fast with 503, and how often one call probes whether
    # Elasticsearch is back.
    es_breaker_failures: int = Field(3, ge=1, le=1000)
    es_breaker_reset_s: float = Field(1.0, ge=0.0, le=600.0)

    # --- serving (search_api/http/prefork.py, server.py)
    # gunicorn: a preloaded master and `api_workers` forked processes, graceful reload on HUP;
    # waitress: one process (`api_workers` must be 1), for platforms without fork.
    api_server: Literal["gunicorn", "waitress"] = "gunicorn"
    # One worker per core of the 2-core machines this runs on: the search path's Python (fusion,
    # paging, JSON) holds the GIL and each process encodes one query at a time, so one process
    # leaves a core idle. Set it to the cores the API gets (Elasticsearch needs some too).
    api_workers: int = Field(2, ge=1, le=64)
    # Request threads per process (None: 4 per gunicorn worker, 8 for waitress's one process).
    api_threads: int | None = Field(None, ge=1, le=256)
    # On TERM (and for the old workers of a HUP reload) in-flight requests get this long to finish.
    graceful_timeout_s: int = Field(30, ge=1, le=3600)

    @field_validator("rate_search", "rate_search_keyed", "rate_events", "rate_events_keyed", "rate_suggest",
                     "rate_suggest_keyed")
    @classmethod
    def _rate(cls, value: str) -> str:
        """Checked at start; the HTTP layer parses it again into its buckets."""
        parse_rate(value)
        return value

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _cors_origins(cls, value: Any) -> Any:
        """`https://a.example, http://localhost:3000`: exact origins, no wildcard, no path."""
        if isinstance(value, str):
            value = value.split(",")
        origins = tuple(str(x).strip().lower() for x in value if str(x).strip())
        for origin in origins:
            if not ORIGIN.fullmatch(origin):
                raise ValueError("each must be an origin like https://shop.example[:port] (no wildcard, no path)")
        return origins

