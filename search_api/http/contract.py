"""The published contract: an OpenAPI 3.1 document generated from the pydantic models, and `/docs`.

The route table below is the one place that says, for every route, which model validates its
input and which describes its answer; pydantic writes every schema. `tests/api/test_contract.py`
fails when a route of the app is missing here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Any

from flask import Blueprint, Response, jsonify, render_template
from pydantic import BaseModel, TypeAdapter
from pydantic.json_schema import models_json_schema

from search_api.analytics.requests import AnalyticsParams, Click
from search_api.brands.audit_spec import AuditRequest
from search_api.core.credentials import ADMIN, ANALYTICS, AUDITS, EVENTS_WRITE, PROFILES_READ, RULES
from search_api.http import path_ids, rule_schemas, schemas, suggest_schemas
from search_api.personal.events import ViewingEvent
from search_api.retrieval.params import SearchParams
from search_api.rules.model import RuleBody
from search_api.suggest.params import SuggestParams

bp = Blueprint("contract", __name__, template_folder="templates", static_folder="static",
               static_url_path="/docs/static")
REF = "#/components/schemas/{model}"
KEY = [{"ApiKey": []}]
RETRY_AFTER = {"Retry-After": {"description": "Seconds until the caller's rate limit lets a request through.",
                               "schema": {"type": "integer", "minimum": 1}}}
Answer = type[BaseModel] | str
"""A response model, or one of `KINDS`."""


@dataclass(frozen=True)
class Route:
    """One operation of the contract."""

    method: str
    path: str
    summary: str
    answers: dict[int, Answer | tuple[Answer, ...]]
    query: type[BaseModel] | None = None
    body: type[BaseModel] | str | None = None
    params: list[dict[str, Any]] = field(default_factory=list)
    scope: str | None = None
    """The API key scope the route needs (None: public)."""
    tag: str = "search"


def _param(name: str, where: str, description: str, schema: dict[str, Any], *, required: bool = True
           ) -> dict[str, Any]:
    return {"name": name, "in": where, "required": required, "description": description, "schema": schema}


RULE_ID = _param("rule_id", "path", "The rule's id.", path_ids.RULE_ID_SCHEMA)

ROUTES: tuple[Route, ...] = (
    Route("get", "/search", "Search with query-string parameters", {200: schemas.SearchAnswer, 400: "error",
                                                                   429: "error", 503: "error"}, query=SearchParams),
    Route("post", "/search", "Search with a JSON body (may carry an inline `history`)",
          {200: schemas.SearchAnswer, 400: "error", 413: "error", 429: "error", 503: "error"}, body=SearchParams),
    Route("get", "/suggest", "Search-box suggestions for a prefix (Chinese, pinyin, English with one typo)",
          {200: suggest_schemas.SuggestAnswer, 400: "error", 429: "error", 503: "error"}, query=SuggestParams),
    Route("post", "/events", "Store a batch of viewing events (207 when some were refused)",
          {200: schemas.EventsAnswer, 207: schemas.EventsAnswer, 400: "error", 401: "error", 403: "error",
           413: "error", 429: "error", 503: "error"}, body="events",
          params=[{"name": "refresh", "in": "query", "required": False,
                   "description": "Make the events searchable before answering.",
                   "schema": {"enum": ["true", "false", "wait_for"]}}], scope=EVENTS_WRITE, tag="events"),
    Route("get", "/users/{user_id}/profile", "A shopper's profile in readable form",
          {200: schemas.ProfileAnswer, 400: "error", 401: "error", 403: "error", 503: "error"},
          params=[_param("user_id", "path", "The shopper.", path_ids.USER_ID_SCHEMA)], scope=PROFILES_READ,
          tag="events"),
    Route("post", "/clicks", "A click on a search result (tied to the answer's `meta.query_id`)",
          {202: schemas.ClickAnswer, 400: "error", 413: "error", 429: "error", 503: "error"}, body=Click,
          tag="analytics"),
    Route("get", "/analytics", "Search analytics over the last N days",
          {200: schemas.AnalyticsAnswer, 400: "error", 401: "error", 403: "error", 503: "error"},
          query=AnalyticsParams, scope=ANALYTICS, tag="analytics"),
    Route("get", "/healthz", "Liveness and what is loaded", {200: schemas.Health}, tag="operations"),
    Route("get", "/readyz", "Readiness: a live index and its vectors are loaded",
          {200: schemas.Ready, 503: schemas.Ready}, tag="operations"),
    Route("post", "/audits", "Start a brand-keyword ranking audit (runs in the background)",
          {202: schemas.AuditStarted, 400: "error", 401: "error", 403: "error", 413: "error", 503: "error"},
          body=AuditRequest, scope=AUDITS, tag="audits"),
    Route("get", "/audits", "The newest audit runs", {200: schemas.AuditList, 401: "error", 403: "error",
                                                     503: "error"}, scope=AUDITS, tag="audits"),
    Route("get", "/audits/compare", "Per-cell rank deltas between two runs",
          {200: schemas.AuditComparison, 400: "error", 401: "error", 403: "error", 404: "error", 503: "error"},
          params=[_param(n, "query", f"The {n} audit id.", path_ids.audit_id_schema(query=True))
                  for n in ("base", "head")],
          scope=AUDITS, tag="audits"),
    Route("get", "/audits/{run_id}", "A run as JSON, or its CSV export with a `.csv` suffix",
          {200: (schemas.AuditRun, "csv"), 400: "error", 401: "error", 403: "error", 404: "error", 503: "error"},
          params=[_param("run_id", "path", "The audit id (append `.csv` for the CSV export).",
                         path_ids.audit_id_schema(suffix=r"(\.csv)?"))],
          scope=AUDITS, tag="audits"),
    Route("get", "/audits/{run_id}/report", "The HTML report of a run (`base` highlights deltas)",
          {200: "html", 400: "error", 401: "error", 403: "error", 404: "error", 503: "error"},
          params=[_param("run_id", "path", "The audit id.", path_ids.audit_id_schema()),
                  _param("base", "query", "An earlier run to compare with.",
                         path_ids.audit_id_schema(query=True, optional=True), required=False)],
          scope=AUDITS, tag="audits"),
    Route("get", "/rules", "Every merchandising rule", {200: rule_schemas.RuleList, 401: "error", 403: "error",
                                                     503: "error"}, scope=RULES, tag="rules"),
    Route("get", "/rules/{rule_id}", "One merchandising rule",
          {200: rule_schemas.StoredRule, 400: "error", 401: "error", 403: "error", 404: "error", 503: "error"},
          params=[RULE_ID], scope=RULES, tag="rules"),
    Route("put", "/rules/{rule_id}", "Create (201) or replace (200) a merchandising rule; live within seconds",
          {200: rule_schemas.StoredRule, 201: rule_schemas.StoredRule, 400: "error", 401: "error", 403: "error",
           413: "error", 503: "error"}, body=RuleBody, params=[RULE_ID], scope=RULES, tag="rules"),
    Route("delete", "/rules/{rule_id}", "Delete a merchandising rule",
          {200: rule_schemas.RuleDeleted, 400: "error", 401: "error", 403: "error", 404: "error", 503: "error"},
          params=[RULE_ID], scope=RULES, tag="rules"),
    Route("get", "/", "The search page (scripts call /search, /suggest, /clicks, /personas)", {200: "html"},
          tag="pages"),
    Route("get", "/personas", "Sample shoppers for the search page's persona switcher (STORESEARCH_PERSONAS_FILE)",
          {200: schemas.PersonaList}, tag="pages"),
    Route("get", "/dashboard", "The dashboard with a signed-in session; the API key form without one",
          {200: "html"}, tag="pages"),
    Route("post", "/dashboard/login", "Check an API key and keep its hash in a signed session cookie",
          {303: "redirect"}, body="login", tag="pages"),
    Route("post", "/dashboard/logout", "Forget the session's key", {303: "redirect"}, tag="pages"),
    Route("post", "/admin/synonyms/reload", "Re-read the synonym file and brand-keyword aliases (this process)",
          {200: schemas.SynonymsReloaded, 401: "error", 403: "error", 422: "error"}, scope=ADMIN, tag="operations"),
    Route("get", "/openapi.json", "This document", {200: "json"}, tag="operations"),
    Route("get", "/docs", "The contract as a readable page", {200: "html"}, tag="operations"),
    Route("get", "/metrics", "Prometheus metrics (STORESEARCH_METRICS: on, key: API key holders, off: 404)",
          {200: "prometheus", 401: "error", 404: "error"}, tag="operations"),
)


def _query_parameters(model: type[BaseModel], schema: dict[str, Any]) -> list[dict[str, Any]]:
    """A flat request model as query parameters (lists become repeated keys)."""
    out = []
    for name, prop in schema["properties"].items():
        if name == "history":  # POST bodies only
            continue
        out.append({"name": name, "in": "query", "required": name in schema.get("required", []),
                    "description": prop.get("description", ""),
                    "schema": {k: v for k, v in prop.items() if k not in ("description", "title")},
                    **({"explode": True} if "array" in str(prop) else {})})
    return out


ERRORS = {401: "No API key, or an unknown one",
          403: "The API key lacks the route's scope (named in `error.scope`)",
          422: "The synonym file does not parse (`file:line: reason`); the previous synonyms stay in force",
          429: "Rate limited (per API key, or per client address without one); see Retry-After"}


KINDS: dict[str, tuple[str, str, dict[str, Any]]] = {
    "error": ("Error", "application/json", {"$ref": REF.format(model="ErrorBody")}),
    "html": ("HTML page", "text/html", {"type": "string"}),
    "csv": ("CSV export", "text/csv", {"type": "string"}),
    "json": ("JSON document", "application/json", {"type": "object"}),
    "prometheus": ("Prometheus text exposition format 0.0.4", "text/plain", {"type": "string"}),
    "redirect": ("See Other: to the dashboard (`Location`), with the session cookie set or cleared", "text/html",
                 {"type": "string"}),
}
"""Answers that are no response model: (description, media type, schema)."""


def _answer(status: int, answer: Answer | tuple[Answer, ...]) -> dict[str, Any]:
    """A response object; a tuple of answers is one status with several media types (JSON, or CSV)."""
    descriptions, content = [], {}
    for one in answer if isinstance(answer, tuple) else (answer,):
        if isinstance(one, str):
            description, media_type, schema = KINDS[one]
        else:
            description = one.__doc__.splitlines()[0] if one.__doc__ else str(status)
            media_type, schema = "application/json", {"$ref": REF.format(model=one.__name__)}
        descriptions.append(description.rstrip("."))
        content[media_type] = {"schema": schema}
    if answer == "error" and status in ERRORS:
        descriptions = [ERRORS[status]]
    response = {"description": "; or ".join(descriptions) + ".", "content": content}
    return {**response, "headers": RETRY_AFTER} if status == 429 else response


@cache
def openapi() -> dict[str, Any]:
    """The OpenAPI 3.1 document (built once per process)."""
    models = {r.body for r in ROUTES if isinstance(r.body, type)} | {r.query for r in ROUTES if r.query}
    answers = [a for r in ROUTES for one in r.answers.values() for a in (one if isinstance(one, tuple) else (one,))]
    models |= {a for a in answers if isinstance(a, type)} | {schemas.ErrorBody}
    _, defs = models_json_schema([(m, "validation") for m in sorted(models, key=lambda m: m.__name__)],
                                     ref_template=REF)
    components = dict(defs.get("$defs", {}))
    events_schema = TypeAdapter(list[ViewingEvent]).json_schema(ref_template=REF)
    components.update(events_schema.pop("$defs", {}))
    paths: dict[str, dict[str, Any]] = {}
    for route in ROUTES:
        op: dict[str, Any] = {"summary": route.summary, "tags": [route.tag],
                              "operationId": f"{route.method}_{route.path.strip('/').replace('/', '_') or 'root'}",
                              "parameters": list(route.params),
                              "responses": {str(s): _answer(s, a) for s, a in route.answers.items()}}
        if route.query is not None:
            op["parameters"] += _query_parameters(route.query, components[route.query.__name__])
        if route.body == "events":
            op["requestBody"] = {"required": True, "content": {"application/json": {"schema": events_schema}}}
        elif route.body == "login":
            op["requestBody"] = {"required": True, "content": {"application/x-www-form-urlencoded": {"schema": {
                "type": "object", "properties": {"key": {"type": "string", "description": "The API key."}}}}}}
        elif isinstance(route.body, type):
            op["requestBody"] = {"required": True, "content": {"application/json": {"schema": {
                "$ref": REF.format(model=route.body.__name__)}}}}
        if route.scope:
            op["security"] = KEY
            op["description"] = f"Needs an API key with the scope `{route.scope}` (or `admin`)."
        paths.setdefault(route.path, {})[route.method] = op
    return {
        "openapi": "3.1.0",
        "info": {"title": "storesearch", "version": "1",
                 "description": "Hybrid keyword + semantic product search, personalised by viewing history. "
                                "Every error answer is `{\"error\": {\"code\", \"message\", \"field\"}}`."},
        "paths": paths,
        "components": {"schemas": components,
                       "securitySchemes": {"ApiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"}}},
    }


@bp.get("/openapi.json")
def openapi_json():  # type: ignore[no-untyped-def]
    """The contract as OpenAPI 3.1."""
    return jsonify(openapi())


@bp.get("/docs")
def docs() -> Response:
    """The contract as a page (server-rendered, no scripts, no CDN)."""
    doc = openapi()
    return Response(render_template("docs.html", doc=doc, schemas=doc["components"]["schemas"]),
                    mimetype="text/html")
