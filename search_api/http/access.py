"""Who may call and how often: the key ring and the rate limits, installed on the app.

Rate limits apply to three route classes, search (`GET`/`POST /search`, `POST /clicks`), suggest (`GET /suggest`,
one per keystroke, so its own buckets) and events (`POST /events`), before the route runs. A
caller with a valid key (any scope) is limited per key; a caller without one (or with an unknown
key) per client address, so guessing keys is throttled too. Preflights (`OPTIONS`) are never
limited. There is no loopback exemption: behind a reverse proxy on the same host every request
comes from 127.0.0.1, and an exemption would silently turn the limits off; the defaults are
instead above what the benchmarks send.

The client address is `request.remote_addr`. Only with `STORESEARCH_TRUSTED_PROXIES=N` (N
proxies that each append to X-Forwarded-For) is the N-th address from the right used instead;
anything further left was written by the client and is never believed. IPv6 callers are
bucketed by their /64, the block one subscriber usually holds.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Callable

from flask import Flask, request

from search_api.core import metrics
from search_api.core.errors import RateLimited
from search_api.core.rates import parse_rate
from search_api.core.settings import ApiSettings
from search_api.http import auth
from search_api.http.keyring import KeyRing
from search_api.http.ratelimit import Buckets, retry_after

ROUTE_CLASSES = {"search.search_get": "search", "search.search_post": "search", "search.events_post": "events",
                 "analytics.clicks_post": "search", "search.suggest_get": "suggest"}
"""Endpoint → route class whose limits apply."""

Limits = dict[str, tuple[Buckets | None, Buckets | None]]
"""Route class → (per address for callers without a valid key, per key); None: unlimited."""


def on_rate_limited(route: str, reason: str) -> None:
    """Count every 429 (`route` is the route class, `reason` `key` or `address`) in the metrics."""
    metrics.rate_limited.labels(route=route, reason=reason).inc()


def install(app: Flask, settings: ApiSettings, *, clock: Callable[[], float] = time.monotonic) -> None:
    """Give `app` its key ring and rate limits.

    Raises:
        ConfigError: the keys file is set but missing or invalid.

    """
    app.extensions[auth.KEYS] = KeyRing(settings.api_keys_file, settings.api_key, clock=clock)
    limits = limits_of(settings, clock)
    trusted = settings.trusted_proxies

    @app.before_request
    def _rate_limit() -> None:
        route = ROUTE_CLASSES.get(request.endpoint or "")
        if route is None or request.method == "OPTIONS":
            return
        per_address, per_key = limits[route]
        who = auth.caller()
        buckets, reason = (per_key, "key") if who else (per_address, "address")
        if buckets is None:
            return
        name = who.id if who else client_address(request.remote_addr, request.headers.getlist("X-Forwarded-For"),
                                                 trusted)
        wait = buckets.take(name)
        if wait > 0:
            on_rate_limited(route, reason)
            raise RateLimited(retry_after(wait), reason)


def limits_of(settings: ApiSettings, clock: Callable[[], float]) -> Limits:
    """The buckets of each route class, from the settings."""

    def buckets(text: str) -> Buckets | None:
        spec = parse_rate(text)
        return Buckets(spec, clock=clock) if spec else None

    return {"search": (buckets(settings.rate_search), buckets(settings.rate_search_keyed)),
            "events": (buckets(settings.rate_events), buckets(settings.rate_events_keyed)),
            "suggest": (buckets(settings.rate_suggest), buckets(settings.rate_suggest_keyed))}


def client_address(remote_addr: str | None, forwarded_for: list[str], trusted_proxies: int) -> str:
    """The address a caller is limited by (see the module docstring)."""
    hops = [hop.strip() for header in forwarded_for for hop in header.split(",")]
    if trusted_proxies and len(hops) >= trusted_proxies:
        forwarded = _bucket(hops[-trusted_proxies])
        if forwarded:
            return forwarded
    return _bucket(remote_addr or "") or remote_addr or "unknown"


def _bucket(address: str) -> str | None:
    """An IPv4 address, or an IPv6 /64; a port some proxies append is dropped; None if not an address."""
    if address.startswith("[") and "]" in address:  # [2001:db8::1]:443
        address = address[1:address.index("]")]
    elif address.count(":") == 1:  # 203.0.113.7:443
        address = address.partition(":")[0]
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)
