"""Read-side settings: the shared `Settings` plus what only the search API uses.

Retrieval depth and fusion, serving, replica polling, viewing events, profiles and the personal
weights are no business of the indexer, so they live here; `ApiSettings` is still a `Settings`
(the read side hands it to the shared code that reads the index format).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import Field, field_validator

from indexer.index_format import DEFAULT_ACTION_WEIGHTS, Settings, name_part
from search_api.core.credentials import HASH, hash_key
from search_api.core.rates import parse_rate

ORIGIN = re.compile(r"https?://[a-z0-9.-]+(:[0-9]{1,5})?|https?://\[[0-9a-f:.]+\](:[0-9]{1,5})?")
"""A serialised browser origin: scheme, host (or bracketed IPv6) and an optional port."""


class ApiSettings(Settings):
    """Everything the search API needs to know, validated once at start."""

    ENV: ClassVar[dict[str, str]] = {
        **Settings.ENV,
        "query_torch_threads": "STORESEARCH_QUERY_TORCH_THREADS", "faiss_threads": "STORESEARCH_FAISS_THREADS",
        "rrf_k": "STORESEARCH_RRF_K", "semantic_weight": "STORESEARCH_SEMANTIC_WEIGHT",
        "keyword_candidates": "STORESEARCH_KEYWORD_CANDIDATES",
        "semantic_candidates": "STORESEARCH_SEMANTIC_CANDIDATES",
        "api_host": "STORESEARCH_HOST", "api_port": "STORESEARCH_PORT",
        "alias_check_seconds": "STORESEARCH_ALIAS_CHECK_SECONDS", "sync_seconds": "STORESEARCH_SYNC_SECONDS",
        "api_key": "STORESEARCH_API_KEY", "events_prefix": "STORESEARCH_EVENTS_PREFIX",
        "events_batch_max": "STORESEARCH_EVENTS_BATCH_MAX", "events_max_future_s": "STORESEARCH_EVENTS_MAX_FUTURE_S",
        "events_retention_days": "STORESEARCH_EVENTS_RETENTION_DAYS",
        "profile_events": "STORESEARCH_PROFILE_EVENTS", "profile_window_days": "STORESEARCH_PROFILE_WINDOW_DAYS",
        "profile_half_life_hours": "STORESEARCH_PROFILE_HALF_LIFE_HOURS",
        "profile_ttl_s": "STORESEARCH_PROFILE_TTL_S", "profile_top": "STORESEARCH_PROFILE_TOP",
        "action_weights": "STORESEARCH_ACTION_WEIGHTS", "personal_alpha": "STORESEARCH_PERSONAL_ALPHA",
        "personal_brand_boost": "STORESEARCH_PERSONAL_BRAND_BOOST",
        "personal_category_boost": "STORESEARCH_PERSONAL_CATEGORY_BOOST",
        "personal_max_boost": "STORESEARCH_PERSONAL_MAX_BOOST",
        "personal_gate_depth": "STORESEARCH_PERSONAL_GATE_DEPTH",
        "personal_gate_ratio": "STORESEARCH_PERSONAL_GATE_RATIO",
        "personal_profile_weight": "STORESEARCH_PERSONAL_PROFILE_WEIGHT",
        "personal_tiebreak": "STORESEARCH_PERSONAL_TIEBREAK",
        "relax_below": "STORESEARCH_RELAX_BELOW", "semantic_floor": "STORESEARCH_SEMANTIC_FLOOR",
        "typo_tolerance": "STORESEARCH_TYPO_TOLERANCE",
        "cors_origins": "STORESEARCH_CORS_ORIGINS", "max_body_bytes": "STORESEARCH_MAX_BODY_BYTES",
        "max_json_depth": "STORESEARCH_MAX_JSON_DEPTH",
        "metrics": "STORESEARCH_METRICS",
        "api_keys_file": "STORESEARCH_API_KEYS_FILE", "trusted_proxies": "STORESEARCH_TRUSTED_PROXIES",
        "rate_search": "STORESEARCH_RATE_SEARCH", "rate_search_keyed": "STORESEARCH_RATE_SEARCH_KEYED",
        "rate_events": "STORESEARCH_RATE_EVENTS", "rate_events_keyed": "STORESEARCH_RATE_EVENTS_KEYED",
        "keyword_budget_ms": "STORESEARCH_KEYWORD_BUDGET_MS", "semantic_budget_ms": "STORESEARCH_SEMANTIC_BUDGET_MS",
        "es_connect_timeout_ms": "STORESEARCH_ES_CONNECT_TIMEOUT_MS",
        "es_breaker_failures": "STORESEARCH_ES_BREAKER_FAILURES",
        "es_breaker_reset_s": "STORESEARCH_ES_BREAKER_RESET_S",
        "api_server": "STORESEARCH_SERVER", "api_workers": "STORESEARCH_WORKERS",
        "api_threads": "STORESEARCH_THREADS", "graceful_timeout_s": "STORESEARCH_GRACEFUL_TIMEOUT_S",
        "rules_refresh_s": "STORESEARCH_RULES_REFRESH_S", "rules_prefix": "STORESEARCH_RULES_PREFIX",
    }

    # At query time one torch thread encodes a short query as fast as two (15 ms) and leaves the
    # other core to Elasticsearch; a second thread spinning after the forward pass measurably
    # slowed the ES calls that follow it. The same cap applies to ONNX Runtime (STORESEARCH_ENCODER).
    query_torch_threads: int = Field(1, ge=1, le=64)
    faiss_threads: int = Field(1, ge=1, le=64)
    rrf_k: int = Field(60, ge=1, le=10_000)
    # MiniLM alone ranks below BM25F on real product queries (ESCI dev nDCG@10 0.69 vs 0.73), so
    # its votes count half in the fusion; it still adds the recall keyword matching misses.
    semantic_weight: float = Field(0.5, ge=0.0, le=10.0)
    keyword_candidates: int = Field(100, ge=10, le=1000)
    semantic_candidates: int = Field(100, ge=10, le=1000)
    api_host: str = "127.0.0.1"
    api_port: int = Field(8000, ge=1, le=65535)
    alias_check_seconds: float = Field(5.0, ge=0.0, le=3600.0)
    # How often the search API asks Elasticsearch for changes after its snapshot (upserts,
    # deletes): a change is in every leg within about this long.
    sync_seconds: float = Field(2.0, ge=0.0, le=3600.0)
    # How often each API process checks the merchandising rules for changes (one tiny search; the
    # rules are re-read only when they changed): a rule is live everywhere within about this long.
    rules_refresh_s: float = Field(2.0, ge=0.0, le=3600.0)
    # Rules live in `<rules_prefix>-rules`; default: `prefix`. A separate prefix lets tests and
    # benchmarks try rules against a shared, read-only product index.
    rules_prefix: str | None = None
    # --- viewing events and personalisation (search_api/personal/)
    # Legacy single key with every scope (kept for existing deployments; prefer `api_keys_file`).
    # Held only as its hash (`sha256:<hex>`, which may also be given directly): see `_api_key`.
    api_key: str | None = None
    # Events live in `<events_prefix>-events-YYYY.MM.DD`; default: `prefix`. A separate prefix lets
    # a benchmark personalise against a read-only product index.
    events_prefix: str | None = None
    events_batch_max: int = Field(1000, ge=1, le=10_000)
    # Client clocks drift; an event more than this far in the future is a bug, not a clock skew.
    events_max_future_s: float = Field(300.0, ge=0.0, le=86_400.0)
    # Daily indices older than this are dropped by `search-api events-retention`, so older events
    # are refused at the door rather than written into an index that is about to go.
    events_retention_days: int = Field(90, ge=1, le=3650)
    profile_events: int = Field(100, ge=1, le=10_000)
    profile_window_days: float = Field(30.0, ge=0.01, le=3650.0)
    profile_half_life_hours: float = Field(72.0, ge=0.01, le=1e6)
    profile_ttl_s: float = Field(30.0, ge=0.0, le=86_400.0)
    profile_top: int = Field(5, ge=1, le=100)
    action_weights: tuple[tuple[str, float], ...] = tuple(DEFAULT_ACTION_WEIGHTS.items())
    # Share of the profile in the semantic query vector: normalize((1-α)·q + α·u). bench/
    # personalisation.py, same code, α 0.3 → 0.1: sample-persona lift 2.24× → 2.08× (preferred items
    # in the top 10), ESCI-persona nDCG@10 0.704 → 0.739 (0.736 unpersonalised). Relevance first.
    personal_alpha: float = Field(0.1, ge=0.0, le=1.0)
    # Keyword-leg factor for a candidate of an affinity brand / category: 1 + boost · share.
    personal_brand_boost: float = Field(0.5, ge=0.0, le=10.0)
    personal_category_boost: float = Field(0.5, ge=0.0, le=10.0)
    # Cap on the combined keyword factor (ES function_score max_boost): personalisation reorders
    # matches, it cannot make a weak match outrank a strong one by more than this.
    personal_max_boost: float = Field(1.5, ge=1.0, le=100.0)
    # The bent semantic search only re-ranks the query's own top-N neighbours: items far from the
    # query never enter, however close they are to the profile.
    personal_gate_depth: int = Field(300, ge=10, le=5000)
    # ... and only those at least this close to the query, relative to the mean cosine of its
    # best 10 (`personalize.ANCHOR_HITS`): on the sample, 0.7 keeps every pillow type for "pillow"
    # and drops bedding (0.38 vs a 0.43 gate), and for "枕头" keeps pillows but drops headphones
    # that only share the character 头.
    personal_gate_ratio: float = Field(0.7, ge=0.0, le=1.0)
    # RRF weight of the profile leg that replaces the semantic leg for queries the model cannot read.
    personal_profile_weight: float = Field(1.0, ge=0.0, le=10.0)
    # Added to the fused score × cos(profile, item): below the RRF gap between adjacent ranks
    # (1/61 - 1/62 ≈ 2.6e-4), so it only orders near-ties.
    personal_tiebreak: float = Field(1e-5, ge=0.0, le=1.0)
    # --- honest matching (search_api/retrieval/relax.py, semantic.py)
    # Keyword hits must match all the query's terms; when fewer products than this do, most terms,
    # then any. 100 (the keyword leg's default depth): ESCI dev hybrid nDCG@10 0.7388 vs 0.7394
    # unrelaxed; 10: 0.7363; 1: 0.7282 (a long query's partial matches are often relevant).
    relax_below: int = Field(100, ge=1, le=10_000)
    # Semantic candidates below this cosine to the query are not matches. bench/nomatch.py (3k
    # sample + ESCI dev, all-MiniLM-L6-v2): 0.3 answers 56% of 50 out-of-catalog queries empty
    # (44% flagged) with ESCI hybrid nDCG@10 0.7386 vs 0.7388 at no floor (semantic 0.6919 vs
    # 0.6942); 0.35 empties 74% but costs semantic-only search 0.009. Model-specific: recalibrate.
    semantic_floor: float = Field(0.3, ge=-1.0, le=1.0)
    # Misspelled query words corrected from the index vocabulary (search_api/retrieval/spelling.py).
    typo_tolerance: bool = True
    # --- HTTP hardening (search_api/http/)
    # Browser origins allowed to call the API cross-origin (`https://shop.example`); none by default.
    cors_origins: tuple[str, ...] = ()
    # A full events batch (1,000 events of ~200 bytes) is ~0.2 MB; anything near 8 MB is abuse.
    max_body_bytes: int = Field(8 * 1024 * 1024, ge=1024, le=1024 * 1024 * 1024)
    # The deepest legitimate body (an audit's personas[].history[]) nests 5 levels.
    max_json_depth: int = Field(32, ge=2, le=512)
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

    @field_validator("events_prefix", "rules_prefix")
    @classmethod
    def _index_prefix(cls, value: str | None) -> str | None:
        """Part of index names, like `prefix`."""
        return None if value is None else name_part(value)

    @field_validator("api_key")
    @classmethod
    def _api_key(cls, value: str | None) -> str | None:
        """The key's hash: the plain key is not kept (nor shown by repr or model_dump)."""
        if not value or not value.strip():  # blank was always "no key"
            return None
        return value if HASH.fullmatch(value) else hash_key(value)

    @field_validator("rate_search", "rate_search_keyed", "rate_events", "rate_events_keyed")
    @classmethod
    def _rate(cls, value: str) -> str:
        """Checked at start; the HTTP layer parses it again into its buckets."""
        parse_rate(value)
        return value

    @field_validator("action_weights", mode="before")
    @classmethod
    def _action_weights(cls, value: Any) -> Any:
        """`view=1,order=8`: overrides of DEFAULT_ACTION_WEIGHTS (unnamed actions keep their default)."""
        if not isinstance(value, str):
            return value
        weights = dict(DEFAULT_ACTION_WEIGHTS)
        for part in (p.strip() for p in value.split(",") if p.strip()):
            name, _, number = (x.strip() for x in part.partition("="))
            if name not in DEFAULT_ACTION_WEIGHTS:
                raise ValueError(f"unknown action {name!r}; known: {', '.join(DEFAULT_ACTION_WEIGHTS)}")
            try:
                weights[name] = float(number)
            except ValueError:
                raise ValueError(f"{name} needs a number, got {number!r}") from None
            if not 0 <= weights[name] <= 1000:
                raise ValueError(f"{name} must be between 0 and 1000")
        return tuple(weights.items())

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

    @property
    def events_alias(self) -> str:
        """Alias over every daily events index (`<events_prefix>-events-YYYY.MM.DD`)."""
        return f"{self.events_prefix or self.prefix}-events"

    @classmethod
    def _derived(cls, raw: dict[str, Any]) -> dict[str, Any]:
        """Events share the product prefix unless told otherwise."""
        if "events_prefix" not in raw and "prefix" in raw:
            return {**raw, "events_prefix": raw["prefix"]}
        return raw
