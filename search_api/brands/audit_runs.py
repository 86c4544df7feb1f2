"""Audit run bookkeeping shared by the HTTP routes and the CLI: personas, start, load.

Persona resolution checks a stored shopper against the events store and validates inline
histories like `/search` does; a started run is kept in this process while it runs (so `GET`
shows its progress) and stored in `<prefix>-audit-runs` when it ends.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

from search_api.brands import audit_spec, audit_store, audits
from search_api.core.errors import InvalidParameter, NotFound
from search_api.personal.event_store import recent
from search_api.personal.events import parse_history
from search_api.retrieval.runtime import Runtime

_running: dict[str, audits.AuditRun] = {}
_lock = threading.Lock()


def resolve_persona(rt: Runtime, i: int, request: audit_spec.PersonaRequest) -> audit_spec.Persona:
    """The `i`-th persona: a stored shopper must have events; a history is validated like /search's.

    Raises:
        InvalidParameter: field `personas[i].user_id` or `personas[i].history`.

    """
    where, label = f"personas[{i}]", request.label_at(i)
    if request.user_id is not None:
        since = datetime.now(UTC) - timedelta(days=rt.settings.profile_window_days)
        _, total = recent(rt.es, rt.settings, request.user_id, limit=1, since=since)
        if total == 0:
            raise InvalidParameter(f"unknown persona: user {request.user_id!r} has no events in the profile window",
                                   field=f"{where}.user_id")
        return audit_spec.Persona(label, user_id=request.user_id)
    if request.history is not None:
        try:
            events = parse_history(request.history, now=datetime.now(UTC), settings=rt.settings)
        except InvalidParameter as exc:
            raise InvalidParameter(f"{where}.history: {exc}", field=f"{where}.history") from exc
        return audit_spec.Persona(label, history=tuple(events))
    return audit_spec.Persona(label)


def parse(rt: Runtime, body: Any) -> audit_spec.AuditSpec:
    """Validate an audit request, its personas resolved against this deployment.

    Raises:
        InvalidParameter: naming the offending field.

    """
    return audit_spec.parse_spec(body, persona=lambda i, request: resolve_persona(rt, i, request))


def start(rt: Runtime, spec: audit_spec.AuditSpec) -> audits.AuditRun:
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


def load(rt: Runtime, run_id: str) -> dict[str, Any]:
    """A run's document: the live one while it runs here, else the stored one.

    Raises:
        NotFound: no such run (field `id`).

    """
    with _lock:
        live = _running.get(run_id)
    if live is not None:
        return live.document()
    found = audit_store.get(rt.es, rt.settings, run_id)
    if found is None:
        raise NotFound(f"no audit {run_id!r}", field="id")
    return found
