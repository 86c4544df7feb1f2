"""HTTP routes of merchandising rules (API key with the scope `rules`): list, read, put, delete.

A put is validated by the rule model and against the stored data (`rules.store.check`); this
process then re-reads the rules at its next search, other processes within
`STORESEARCH_RULES_REFRESH_S`.
"""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request

from search_api.core.credentials import RULES
from search_api.core.errors import NotFound
from search_api.http import path_ids
from search_api.http.auth import require
from search_api.retrieval.runtime import Runtime
from search_api.rules import store
from search_api.rules.model import parse_rule

bp = Blueprint("rules", __name__)


def _rt() -> Runtime:
    require(RULES)
    rt: Runtime = current_app.extensions["storesearch"]
    return rt


@bp.get("/rules")
def rules_list():  # type: ignore[no-untyped-def]
    """Every rule, by id."""
    rt = _rt()
    return jsonify({"rules": store.listing(rt.es, rt.settings)})


@bp.get("/rules/<rule_id>")
def rules_get(rule_id: str):  # type: ignore[no-untyped-def]
    """One rule."""
    rt = _rt()
    rule = store.get(rt.es, rt.settings, path_ids.rule_id(rule_id))
    if rule is None:
        raise NotFound(f"no rule {rule_id!r}", field="rule_id")
    return jsonify(rule)


@bp.put("/rules/<rule_id>")
def rules_put(rule_id: str):  # type: ignore[no-untyped-def]
    """Create or replace a rule: 201 when new, 200 when replaced."""
    rt = _rt()
    rule_id = path_ids.rule_id(rule_id)
    rule = parse_rule(request.get_json(silent=True))
    document, created = store.put(rt.es, rt.settings, rule_id, rule)
    rt.rules.expire()
    return jsonify(document), (201 if created else 200)


@bp.delete("/rules/<rule_id>")
def rules_delete(rule_id: str):  # type: ignore[no-untyped-def]
    """Delete a rule (404 when there is none)."""
    rt = _rt()
    if not store.delete(rt.es, rt.settings, path_ids.rule_id(rule_id)):
        raise NotFound(f"no rule {rule_id!r}", field="rule_id")
    rt.rules.expire()
    return jsonify({"id": rule_id, "deleted": True})
