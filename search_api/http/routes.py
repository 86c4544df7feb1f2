"""HTTP routes: parse, call one function, return JSON."""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, current_app, jsonify, request

from indexer.index_format import IndexerError, ping
from search_api.brands.answer import answer
from search_api.core.credentials import EVENTS_WRITE, PROFILES_READ
from search_api.core.errors import InvalidParameter
from search_api.http import auth, path_ids
from search_api.http.json_body import parse_json
from search_api.http.redact import public_answer
from search_api.personal.events import parse_history
from search_api.personal.ingest import ingest
from search_api.retrieval.params import SearchRequest, parse_search
from search_api.retrieval.runtime import Runtime
from search_api.suggest.params import parse_suggest
from search_api.suggest.service import suggest

bp = Blueprint("search", __name__)
log = logging.getLogger(__name__)


def runtime() -> Runtime:
    """The process's Runtime."""
    return current_app.extensions["storesearch"]  # type: ignore[no-any-return]


def _query_args() -> dict[str, Any]:
    return {key: values if len(values) > 1 else values[0] for key, values in request.args.lists()}


@bp.get("/search")
def search_get():  # type: ignore[no-untyped-def]
    """Search with query-string parameters."""
    rt = runtime()
    req = parse_search(_query_args())
    out = answer(rt, req, origin="search", raw=request.args.get("q"))
    return jsonify(public_answer(out, show_profile=_may_see_profile(rt, req)))


@bp.get("/suggest")
def suggest_get():  # type: ignore[no-untyped-def]
    """Search-box suggestions for what the shopper has typed so far."""
    return jsonify(suggest(runtime(), parse_suggest(_query_args())))


@bp.post("/search")
def search_post():  # type: ignore[no-untyped-def]
    """Search with a JSON body of the same fields."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise InvalidParameter("body must be a JSON object", field="body")
    rt = runtime()
    history = None
    if body.get("history") is not None:
        history = parse_history(body["history"], now=datetime.now(UTC), settings=rt.settings)
    req = parse_search(body, history=history)
    raw = body.get("q") if isinstance(body.get("q"), str) else None
    return jsonify(public_answer(answer(rt, req, origin="search", raw=raw), show_profile=_may_see_profile(rt, req)))


def _may_see_profile(rt: Runtime, req: SearchRequest) -> bool:
    """A stored shopper's profile is for keys that may read profiles; an inline history is the caller's own."""
    return not req.user_id or auth.allows(PROFILES_READ)


REFRESH_CHOICES = {"": False, "false": False, "true": True, "wait_for": "wait_for"}


@bp.post("/events")
def events_post():  # type: ignore[no-untyped-def]
    """Store a batch of viewing events (scope events:write); 207 when Elasticsearch refused some."""
    rt = runtime()
    auth.require(EVENTS_WRITE)
    try:
        body = parse_json(request.get_data(cache=False), max_depth=rt.settings.max_json_depth)
    except ValueError:
        raise InvalidParameter("body must be a JSON array of events", field="body") from None
    refresh = request.args.get("refresh", "").lower()
    if refresh not in REFRESH_CHOICES:
        raise InvalidParameter("refresh must be true, false or wait_for", field="refresh")
    out = ingest(rt, body, refresh=REFRESH_CHOICES[refresh])
    return jsonify(out), (207 if out["rejected"] else 200)


@bp.get("/users/<user_id>/profile")
def profile_get(user_id: str):  # type: ignore[no-untyped-def]
    """A shopper's profile in readable form (scope profiles:read)."""
    rt = runtime()
    auth.require(PROFILES_READ)
    profile = rt.profiles.for_user(path_ids.user_id(user_id))
    s = rt.settings
    return jsonify({"user_id": user_id, **profile.describe(), "window_days": s.profile_window_days,
                    "max_events": s.profile_events, "half_life_hours": s.profile_half_life_hours})


READY_PROBE_S = 1.0
"""How long /healthz and /readyz wait for Elasticsearch: a health call answers in milliseconds when it is up."""


@bp.get("/healthz")
def healthz():  # type: ignore[no-untyped-def]
    """Liveness plus what is loaded: ES reachability, alias target, FAISS version."""
    rt = runtime()
    health: dict[str, Any] = {"status": "ok", "alias": rt.settings.products_alias,
                              "model": rt.settings.model, "model_loaded": rt.embedder_loaded,
                              "vector_backend": rt.settings.vector_backend,
                              "pid": os.getpid()}  # which worker answered: each has its own replica
    if rt.settings.query_log:
        health["query_log"] = rt.query_log.stats()  # this worker's: each has its own writer
    try:
        health["elasticsearch"] = ping(rt.es.options(request_timeout=READY_PROBE_S))
        live = rt.replica.current()
    except IndexerError as exc:
        log.warning("healthz: %s", exc)
        health.update(status="degraded", elasticsearch="unreachable")
        return jsonify(health), 200
    health["index_version"] = live.index if live else None
    health["replica"] = rt.replica.status()
    if health["replica"].get("sync_error"):  # Elasticsearch's words; the replica logged them
        health["replica"]["sync_error"] = "failed (see the server log)"
    health["synonyms"] = rt.synonyms.status()
    if health["synonyms"].pop("file_error", None):  # the reason names server paths; the log has it
        health["synonyms"]["file_refused"] = True  # the previous rules stay in force
    if live is None or live.vectors is None:
        health["status"] = "degraded"
        health["problem"] = live.error if live else "no live index; run `indexer build`"
    return jsonify(health), 200


@bp.get("/readyz")
def readyz():  # type: ignore[no-untyped-def]
    """200 once Elasticsearch answers and a live index and its vectors are loaded, else 503.

    Elasticsearch is asked every time (through the breaker: at once while it is known down), so a
    replica serving its loaded snapshot does not hide an outage, and the first probe that gets an
    answer makes the instance ready again without a restart.
    """
    rt = runtime()
    try:
        ping(rt.es.options(request_timeout=READY_PROBE_S))
        live = rt.replica.current()
    except IndexerError as exc:
        log.warning("readyz: %s", exc)
        return jsonify({"ready": False, "reason": "Elasticsearch unavailable"}), 503
    if live is None or live.vectors is None:
        return jsonify({"ready": False, "reason": "no live index or vectors"}), 503
    return jsonify({"ready": True, "index_version": live.index}), 200
