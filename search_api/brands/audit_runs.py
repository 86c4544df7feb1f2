"""Audit run bookkeeping shared by the HTTP routes and the CLI: personas, start, load.

Persona resolution checks a stored shopper against the events store and validates inline
histories like `/search` does; a started run is kept in this process while it runs (so `GET`
shows its progress) and stored in `<prefix>-audit-runs` when it ends.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from search_api.brands import audit_store, audits
from search_api.core.errors import InvalidParameter, NotFound
from search_api.personal.event_store import recent
from search_api.personal.events import parse_history
from search_api.retrieval.runtime import Runtime

_running: dict[str, audits.AuditRun] = {}
_lock = threading.Lock()


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


def parse(rt: Runtime, body: Any) -> audits.AuditSpec:
    """Validate an audit request, its personas resolved against this deployment.

    Raises:
        InvalidParameter: naming the offending field.

    """
    return audits.parse_spec(body, persona=lambda i, item: resolve_persona(rt, i, item))


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
