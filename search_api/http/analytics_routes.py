"""Clicks on search results (public) and search analytics (API key)."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, current_app, jsonify, request

from search_api.analytics.reports import Window, report
from search_api.analytics.requests import AnalyticsParams, Click
from search_api.core.credentials import ANALYTICS
from search_api.core.errors import InvalidParameter
from search_api.core.validation import validate
from search_api.http import auth
from search_api.personal.events import Event
from search_api.personal.ingest import store
from search_api.retrieval.runtime import Runtime

bp = Blueprint("analytics", __name__)

ANONYMOUS = ""
"""The user id of a click from a shopper the page does not know: stored, feeds no profile."""


def _runtime() -> Runtime:
    return current_app.extensions["storesearch"]  # type: ignore[no-any-return]


@bp.post("/clicks")
def clicks_post():  # type: ignore[no-untyped-def]
    """A click on a search result: stored as a search-sourced click event tied to its answer."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise InvalidParameter("body must be a JSON object", field="body")
    click = validate(Click, body)
    rt = _runtime()
    event = Event(click.user_id or ANONYMOUS, click.product_id, "click", "search", datetime.now(UTC),
                  query_id=click.query_id, position=click.position)
    out = store(rt, [event])
    return jsonify({"accepted": out["accepted"] == 1, "known_query": out["unknown_queries"] == 0}), 202


@bp.get("/analytics")
def analytics_get():  # type: ignore[no-untyped-def]
    """Top, zero-result and relaxed queries, CTR by position and per query, MRR, searches per day."""
    auth.require(ANALYTICS)
    params = validate(AnalyticsParams, request.args.to_dict(), root="query")
    rt = _runtime()
    # Nothing older than the retention exists: a longer window is the retention (window.days says so).
    window = Window(days=min(params.days, rt.settings.events_retention_days), lang=params.lang,
                    brand_keyword=params.brand_keyword, top=params.top)
    return jsonify(report(rt.es, rt.settings, window))
