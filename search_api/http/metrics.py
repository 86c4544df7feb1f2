"""Request metrics and `GET /metrics`.

Every answer is timed and counted under its Flask rule (`/audits/<run_id>`, never the raw path;
`unmatched` when no rule matched), its method, status and error code, so a client sending random
paths or methods cannot mint series. The error code is read from the head of the JSON error body
(`{"error": {"code": …`) that every error handler writes, so the handlers need not know about
metrics; answers without one count with code "".

`/metrics` follows `STORESEARCH_METRICS` (see `ApiSettings.metrics`): `on` answers anyone, `key`
only API-key holders (401 otherwise), `off` answers exactly like an unknown route (404).
"""

from __future__ import annotations

import re
import time
from typing import Any

from flask import Blueprint, Flask, Response, current_app, g, request
from prometheus_client import Counter, Histogram
from werkzeug.exceptions import NotFound

from search_api.core import metrics_export
from search_api.core.metrics import http_request_seconds, http_requests
from search_api.http import auth

bp = Blueprint("metrics", __name__)
METHODS = frozenset({"GET", "POST", "HEAD", "OPTIONS", "PUT", "PATCH", "DELETE"})
ERROR_CODE = re.compile(rb'\{\s*"error"\s*:\s*\{\s*"code"\s*:\s*"([a-z_]{1,40})"')
"""The code at the head of an error body; anything else is not one of the API's codes."""
HEAD_BYTES = 128


def route_label() -> str:
    """The request's route for labels: its Flask rule, or `unmatched` (404s, 405s)."""
    rule = request.url_rule
    return rule.rule if rule is not None else "unmatched"


def method_label() -> str:
    """The request's method for labels (anything unusual counts as `other`)."""
    return request.method if request.method in METHODS else "other"


def error_code(response: Response) -> str:
    """The API error code of an answer ('' for successes and answers without an error body)."""
    if response.status_code < 400 or response.is_streamed or not response.is_json:
        return ""
    found = ERROR_CODE.match(response.get_data()[:HEAD_BYTES])
    return found.group(1).decode() if found else ""


def install(app: Flask) -> None:
    """Time and count every answer of `app`, errors included.

    The clock starts in the first before-request hook, so hooks registered later (rate limits,
    keys) are inside the measured time, and a request they refuse is still counted.

    Raises:
        ConfigError: multiprocess metrics asked for but unusable (`metrics_export.check_multiprocess`).

    """
    metrics_export.check_multiprocess()
    app.before_request_funcs.setdefault(None, []).insert(0, _start)
    app.after_request(_record)


def _start() -> None:
    g.metrics_started = time.perf_counter()


_SECONDS: dict[tuple[str, ...], Any] = {}
_ANSWERS: dict[tuple[str, ...], Any] = {}
"""Label values → bound child: `labels()` validates and locks on every call, a dict lookup does not."""


def _child(cache: dict[tuple[str, ...], Any], metric: Histogram | Counter, *labels: str) -> Any:
    child = cache.get(labels)
    if child is None:  # a race only binds the same child twice
        child = cache[labels] = metric.labels(*labels)
    return child


def _record(response: Response) -> Response:
    route, method = route_label(), method_label()
    started = g.pop("metrics_started", None)
    if started is not None:
        _child(_SECONDS, http_request_seconds, route, method).observe(time.perf_counter() - started)
    _child(_ANSWERS, http_requests, route, method, str(response.status_code), error_code(response)).inc()
    return response


@bp.get("/metrics")
def metrics_get() -> Response:
    """Prometheus text: this process's metrics, or every worker's in multiprocess mode."""
    settings = current_app.extensions["storesearch"].settings
    if settings.metrics == "off":
        raise NotFound()
    if settings.metrics == "key":  # a scrape with an admin key
        auth.require("admin")
    answer = Response(metrics_export.scrape(), content_type=metrics_export.CONTENT_TYPE)
    answer.headers["Cache-Control"] = "no-store"
    return answer
