"""Schemathesis fuzzes every operation of `/openapi.json` on the real stack (Elasticsearch, sample index, model).

What must hold for every generated request, valid or not:

- no 5xx;
- every 4xx is the documented `{"error": {"code", "message", "field"?}}` and says nothing of
  Elasticsearch;
- every answer has a documented status, content type, headers and schema (schemathesis's checks);
- a request the contract calls valid is answered 2xx or 404, or refused by one of the rules
  `SCHEMA_CANNOT_SAY` lists: rules across fields, against the clock, or about stored data, which
  a JSON Schema cannot state. Any other 400 for valid data is a contract bug (schema or code).

Not checked: that the API refuses everything the schema calls invalid. The request schemas
describe the canonical form; the API is deliberately lenient beyond it (one model reads query
strings and JSON bodies: empty and null scalars are absent, one value stands for a one-item
list, flags read 1/0/yes/no, numbers may be strings), so schemathesis's `negative_data_rejection`
would only list those documented leniencies. Invalid requests still go through every check above.

Keyed routes get the API key (schemathesis also sends them without it). The run is bounded for
CI: a fixed seed, derandomized, `MAX_EXAMPLES` per operation and phase, no shrinking, no example
database, no stateful phase. Events go under a prefix of their own; audits it starts are waited for.

The schema is loaded at import from an app that opens nothing (the document is static); the
requests go to the real app of the `fuzz_app` fixture. (`schemathesis.pytest.from_fixture`
would do the same lazily, but reads `Node._nodeid`, which pytest 9 no longer has.)
"""

from __future__ import annotations

import json
import re
import time

import pytest
import schemathesis
from schemathesis.checks import negative_data_rejection, positive_data_acceptance
from schemathesis.config import SchemathesisConfig

from indexer.index_format import ensure_index
from search_api.brands import audit_runs, audit_store
from search_api.core.settings import ApiSettings
from search_api.http.app import create_app
from search_api.retrieval.runtime import Runtime

pytestmark = pytest.mark.integration

KEY = "fuzz-key"
SEED = 20261129
MAX_EXAMPLES = 25
AUDIT_EXAMPLES = 8
ES_WORDS = ("x_content_parse_exception", "Term is longer", "Connection refused", "elasticsearch", "HTTP 400",
            "index_not_found", "search_phase_execution", "Traceback")

SCHEMA_CANNOT_SAY: dict[str, dict[str, str]] = {
    "GET /search": {"from": "from + size ≤ 1000", "price_min": "price_min ≤ price_max"},
    "POST /search": {"from": "from + size ≤ 1000", "price_min": "price_min ≤ price_max",
                     r"history\[\d+\]\.ts": "within retention and at most a little ahead of now"},
    "POST /events": {"ts": "within retention and at most a little ahead of now"},
    "PUT /rules/{rule_id}": {r"products\[\d+\]": "a product of the live index",
                             "position": "no other pin of the query at these positions in an overlapping window; "
                                         "position + products - 1 ≤ 100",
                             "active_to": "after active_from",
                             "query": "has words left after analysis (not only stop words)"},
    "GET /suggest": {"q": "at most 64 characters once normalised (NFKC may lengthen text)"},
    "POST /audits": {"personas": "labels are unique (defaults included)",
                     r"personas\[\d+\]\.label": "a default label is the user_id, at most 100 characters",
                     r"personas\[\d+\]\.user_id": "a stored shopper with events in the profile window",
                     r"personas\[\d+\]\.history": "inline events within retention, not ahead of now"},
}
"""For each operation, the `field`s a schema-valid request may still be refused on, and the rule."""

CONFIG = SchemathesisConfig.from_dict({
    "seed": SEED,
    # Hypothesis's health checks time data generation: on shared CI cores they flake, they find nothing
    "suppress-health-check": ["all"],
    "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True, "database": "none", "no-shrink": True},
    "phases": {"stateful": {"enabled": False}},
    "auth": {"openapi": {"ApiKey": {"api_key": KEY}}},
    # each accepted audit runs its cells in a thread: fewer of them
    "operations": [{"include-name": "POST /audits", "generation": {"max-examples": AUDIT_EXAMPLES}}],
})
NO_LIMITS = {f"rate_{r}": "off" for r in ("search", "search_keyed", "events", "events_keyed", "suggest",
                                          "suggest_keyed")}
"""The fuzzer's unauthenticated calls would exhaust a per-address bucket and get a (correct) 429 where
its auth checks want a 401 (the limits are tested in tests/api/test_access.py). Schemathesis replays
those checks through the app the schema was loaded from, so neither app limits."""
schema = schemathesis.openapi.from_wsgi("/openapi.json",
                                        create_app(ApiSettings(es_url="http://127.0.0.1:1", **NO_LIMITS)),
                                        config=CONFIG)


@pytest.fixture(scope="module")
def fuzz_settings(sample_index) -> ApiSettings:
    """The sample index, a key, no rate limits (`NO_LIMITS`), and events and rules under a prefix of their own."""
    settings = sample_index.settings
    return settings.with_(api_key=KEY, events_prefix=f"{settings.prefix}-fuzz", rules_prefix=f"{settings.prefix}-fuzz",
                          **NO_LIMITS)


@pytest.fixture(scope="module")
def fuzz_app(fuzz_settings, model, es):
    # an accepted audit is saved with refresh=wait_for: a 1 s refresh would make each one take ~1 s
    runs = audit_store.runs_index(fuzz_settings)
    ensure_index(es, runs, audit_store.MAPPINGS)
    es.indices.put_settings(index=runs, settings={"refresh_interval": "100ms"})
    yield create_app(runtime=Runtime(fuzz_settings, embedder=model, es=es))
    deadline = time.monotonic() + 120  # audits the fuzzer started run in threads: let them end here
    while audit_runs._running and time.monotonic() < deadline:
        time.sleep(0.2)
    es.indices.put_settings(index=runs, settings={"refresh_interval": None})
    es.indices.delete(index=f"{fuzz_settings.events_prefix}-*", ignore_unavailable=True, allow_no_indices=True)
    es.indices.delete(index=f"{fuzz_settings.rules_prefix}-rules", ignore_unavailable=True)


def error_of(response) -> dict:
    """The documented error body of a 4xx, in the API's own words."""
    assert response.headers.get("content-type", [""])[0].startswith("application/json"), response.headers
    error = json.loads(response.content)["error"]
    assert isinstance(error["code"], str) and error["code"]
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error.get("field", ""), str)
    text = response.content.decode("utf-8", "replace").lower()
    assert not [w for w in ES_WORDS if w.lower() in text], text
    return error


def assert_valid_data_accepted(case, response, error: dict) -> None:
    """A schema-valid request is refused only by a rule the schema cannot state."""
    if not (case.meta and case.meta.generation.mode.is_positive) or response.status_code != 400:
        return
    rules = SCHEMA_CANNOT_SAY.get(case.operation.label, {})
    field = error.get("field") or ""
    assert any(re.fullmatch(pattern, field) for pattern in rules), (
        f"{case.operation.label}: schema-valid request refused: {error}\n{case.as_curl_command()}")


@schema.parametrize()
def test_fuzz(case, fuzz_app):
    response = case.call(app=fuzz_app)
    case.validate_response(response, excluded_checks=[positive_data_acceptance, negative_data_rejection])
    assert response.status_code < 500, response.content
    if response.status_code >= 400:
        assert_valid_data_accepted(case, response, error_of(response))
