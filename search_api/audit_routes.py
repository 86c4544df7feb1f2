"""HTTP routes of audits (API key): start, list, fetch, compare, export, report.

`POST /audits` validates the request at once (400s name the field), then runs the cells in a
background thread and answers 202 with the run id; `GET /audits/<id>` shows progress while it
runs and the whole run when done.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from search_api import audit_report, audit_store, audits
from search_api.auth import require_key
from search_api.errors import InvalidParameter, NotFound
from search_api.event_store import recent
from search_api.events import parse_history
from search_api.runtime import Runtime

bp = Blueprint("audits", __name__)
_running: dict[str, audits.AuditRun] = {}
_lock = threading.Lock()


def _rt() -> Runtime:
    rt: Runtime = current_app.extensions["storesearch"]
    require_key(rt.settings.api_key, request.headers)
    return rt


def resolve_persona(rt: Runtime, i: int, item: Mapping[str, Any]) -> audits.Persona:
    """Anonymous, a stored user (who must have events), or an inline history (validated like /search's).

    Raises:
        InvalidParameter: field `personas[i]`.

    """
    where = f"personas[{i}]"
    label = item.get("label")
    user_id = item.get("user_id")
    history = item.get("history")
    if user_id is not None and history is not None:
        raise InvalidParameter("a persona has a user_id or a history, not both", field=where)
    if label is None:
        label = user_id if isinstance(user_id, str) else audits.ANONYMOUS if history is None else f"history-{i}"
    if not isinstance(label, str) or not label.strip() or len(label) > 100:
        raise InvalidParameter("label must be a string of 1-100 characters", field=f"{where}.label")
    if user_id is not None:
        if not isinstance(user_id, str) or not user_id.strip():
            raise InvalidParameter("user_id must be a non-empty string", field=f"{where}.user_id")
        since = datetime.now(UTC) - timedelta(days=rt.settings.profile_window_days)
        _, total = recent(rt.es, rt.settings, user_id, limit=1, since=since)
        if total == 0:
            raise InvalidParameter(f"unknown persona: user {user_id!r} has no events in the profile window",
                                   field=f"{where}.user_id")
        return audits.Persona(label.strip(), user_id=user_id)
    if history is not None:
        try:
            events = parse_history(history, now=datetime.now(UTC), settings=rt.settings)
        except InvalidParameter as exc:
            raise InvalidParameter(f"{where}.history: {exc}", field=f"{where}.history") from exc
        return audits.Persona(label.strip(), history=tuple(events))
    extra = set(item) - {"label"}
    if extra:
        raise InvalidParameter(f"unknown persona fields {sorted(extra)}", field=where)
    return audits.Persona(label.strip())


def start(rt: Runtime, spec: audits.AuditSpec) -> audits.AuditRun:
    """Store the run as running and execute it in a thread; the document is replaced when done."""
    run = audits.new_run(spec)
    audit_store.save(rt.es, rt.settings, run.document())
    with _lock:
        _running[run.id] = run

    def work() -> None:
        audits.run(rt, run)
        try:
            audit_store.save(rt.es, rt.settings, run.document())
        finally:
            with _lock:
                _running.pop(run.id, None)

    threading.Thread(target=work, daemon=True, name=f"audit-{run.id}").start()
    return run


def _load(rt: Runtime, run_id: str) -> dict[str, Any]:
    with _lock:
        live = _running.get(run_id)
    if live is not None:
        return live.document()
    found = audit_store.get(rt.es, rt.settings, run_id)
    if found is None:
        raise NotFound(f"no audit {run_id!r}", field="id")
    return found


@bp.post("/audits")
def audits_post():  # type: ignore[no-untyped-def]
    """Validate and start an audit."""
    rt = _rt()
    body = request.get_json(silent=True)
    spec = audits.parse_spec(body, persona=lambda i, item: resolve_persona(rt, i, item))
    run = start(rt, spec)
    return jsonify({"id": run.id, "status": "running", "cells": spec.cells,
                    "href": f"/audits/{run.id}"}), 202


@bp.get("/audits")
def audits_list():  # type: ignore[no-untyped-def]
    """The newest runs, without cells."""
    rt = _rt()
    return jsonify({"audits": audit_store.listing(rt.es, rt.settings)})


@bp.get("/audits/compare")
def audits_compare():  # type: ignore[no-untyped-def]
    """Per-cell rank deltas between two runs."""
    rt = _rt()
    ids = {name: request.args.get(name, "").strip() for name in ("base", "head")}
    for name, value in ids.items():
        if not value:
            raise InvalidParameter(f"{name} (an audit id) is required", field=name)
    base, head = _load(rt, ids["base"]), _load(rt, ids["head"])
    return jsonify({"base": ids["base"], "head": ids["head"], "cells": audits.compare(base, head)})


@bp.get("/audits/<run_id>")
def audits_get(run_id: str):  # type: ignore[no-untyped-def]
    """A run (JSON export), or its CSV with a `.csv` suffix."""
    rt = _rt()
    if run_id.endswith(".csv"):
        run = _load(rt, run_id.removesuffix(".csv"))
        return Response(audit_report.to_csv(run), mimetype="text/csv",
                        headers={"Content-Disposition": f'attachment; filename="{run["id"]}.csv"'})
    return jsonify(_load(rt, run_id))


@bp.get("/audits/<run_id>/report")
def audits_report(run_id: str):  # type: ignore[no-untyped-def]
    """The HTML report; `?base=<id>` highlights the deltas against an earlier run."""
    rt = _rt()
    run = _load(rt, run_id)
    base_id = request.args.get("base", "").strip()
    base = _load(rt, base_id) if base_id else None
    return Response(audit_report.to_html(run, base), mimetype="text/html")
