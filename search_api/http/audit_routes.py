"""HTTP routes of audits (API key with the scope `audits`): start, list, fetch, compare, export, report.

`POST /audits` validates the request at once (400s name the field), then runs the cells in a
background thread and answers 202 with the run id; `GET /audits/<id>` shows progress while it
runs and the whole run when done.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, request

from search_api.brands import audit_report, audit_runs, audit_store, audits
from search_api.core.credentials import AUDITS
from search_api.core.errors import InvalidParameter
from search_api.http import path_ids
from search_api.http.auth import require
from search_api.http.headers import html_csp
from search_api.retrieval.runtime import Runtime

bp = Blueprint("audits", __name__)


def _rt() -> Runtime:
    require(AUDITS)
    rt: Runtime = current_app.extensions["storesearch"]
    return rt


@bp.post("/audits")
def audits_post():  # type: ignore[no-untyped-def]
    """Validate and start an audit."""
    rt = _rt()
    body = request.get_json(silent=True)
    spec = audit_runs.parse(rt, body)
    run = audit_runs.start(rt, spec)
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
        path_ids.audit_id(value, name)
    base, head = audit_runs.load(rt, ids["base"]), audit_runs.load(rt, ids["head"])
    return jsonify({"base": ids["base"], "head": ids["head"], "cells": audits.compare(base, head)})


@bp.get("/audits/<run_id>")
def audits_get(run_id: str):  # type: ignore[no-untyped-def]
    """A run (JSON export), or its CSV with a `.csv` suffix."""
    rt = _rt()
    if run_id.endswith(".csv"):
        run = audit_runs.load(rt, path_ids.audit_id(run_id.removesuffix(".csv")))
        return Response(audit_report.to_csv(run), mimetype="text/csv",
                        headers={"Content-Disposition": f'attachment; filename="{run["id"]}.csv"'})
    return jsonify(audit_runs.load(rt, path_ids.audit_id(run_id)))


@bp.get("/audits/<run_id>/report")
def audits_report(run_id: str):  # type: ignore[no-untyped-def]
    """The HTML report; `?base=<id>` highlights the deltas against an earlier run."""
    rt = _rt()
    run_id, base_id = path_ids.audit_id(run_id), request.args.get("base", "").strip()
    if base_id:
        path_ids.audit_id(base_id, "base")
    run = audit_runs.load(rt, run_id)
    base = audit_runs.load(rt, base_id) if base_id else None
    return Response(audit_report.to_html(run, base), mimetype="text/html",
                    headers={"Content-Security-Policy": html_csp([audit_report.STYLE_HASH])})
