"""The published contract: every route in /openapi.json, a valid OpenAPI 3.1 document, errors as documented."""

from __future__ import annotations

import re

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from search_api.brands.audit_spec import Persona, parse_spec
from search_api.core.errors import InvalidParameter
from search_api.core.settings import ApiSettings
from search_api.core.validation import NOT_BLANK
from search_api.http import path_ids, schemas
from search_api.http.app import create_app
from search_api.retrieval.params import parse_search


@pytest.fixture(scope="module")
def client():
    app = create_app(ApiSettings(es_url="http://127.0.0.1:1", request_timeout_s=0.5, sync_seconds=0))
    return app.test_client()


@pytest.fixture(scope="module")
def doc(client):
    answer = client.get("/openapi.json")
    assert answer.status_code == 200
    return answer.get_json()


def test_every_route_of_the_app_is_in_the_contract(client, doc):
    routes = {(re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule), method.lower())
              for rule in client.application.url_map.iter_rules() if not rule.endpoint.endswith("static")
              for method in rule.methods - {"HEAD", "OPTIONS"}}
    documented = {(path, method) for path, ops in doc["paths"].items() for method in ops}
    assert routes - documented == set(), "routes missing from /openapi.json"
    assert documented - routes == set(), "documented routes the app does not serve"


def test_the_document_is_valid_openapi_3_1(doc):
    assert doc["openapi"] == "3.1.0"
    validate(doc)


def test_every_error_answer_is_the_documented_error_body(doc):
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            for status, answer in op["responses"].items():
                if int(status) >= 400 and path != "/readyz":
                    schema = answer["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/ErrorBody"}, (method, path, status)


def test_search_parameters_carry_their_limits(doc):
    params = {p["name"]: p for p in doc["paths"]["/search"]["get"]["parameters"]}
    assert params["q"]["required"] and params["size"]["schema"]["maximum"] == 100
    assert "from" in params and "history" not in params  # inline history is for POST bodies only
    assert doc["paths"]["/search"]["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/SearchParams")


def test_real_error_answers_match_the_documented_body(client):
    for answer in (client.get("/search?q=pillow&size=abc"), client.get("/search"),
                   client.post("/search", data="[1]", content_type="application/json"),
                   client.get("/nowhere")):
        assert 400 <= answer.status_code < 500
        body = schemas.ErrorBody.model_validate(answer.get_json())
        assert body.error.code and body.error.message
    assert schemas.ErrorBody.model_validate(client.get("/search?q=x&size=abc").get_json()).error.field == "size"
    for query, field in (("fusion=sum", "fusion"), ("semantic_weight=11", "semantic_weight")):
        answer = client.get(f"/search?q=x&{query}")
        assert answer.status_code == 400
        assert schemas.ErrorBody.model_validate(answer.get_json()).error.field == field


def test_fusion_and_ranker_are_in_the_contract(doc):
    params = {p["name"]: p for p in doc["paths"]["/search"]["get"]["parameters"]}
    assert {"fusion", "semantic_weight"} <= set(params)
    assert doc["components"]["schemas"]["Fusion"]["enum"] == ["rrf", "linear"]
    assert {"fusion", "ranker"} <= set(doc["components"]["schemas"]["SearchMeta"]["properties"])


def test_docs_page_lists_every_operation_without_external_assets(client, doc):
    page = client.get("/docs")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    for path in doc["paths"]:
        assert f"<code>{path}</code>" in html
    assert "http://" not in html and "https://" not in html  # vendored: nothing from a CDN
    assert "<script" not in html
    css = client.get("/docs/static/docs.css")
    assert css.status_code == 200 and b"font" in css.data
    css.close()


# The request schemas state the routes' own checks, so a client (or the fuzzer, tests/api/test_fuzz.py)
# that sends what the contract calls valid is not refused. Each case below is checked both ways.

def schema_of(doc, ref_or_schema):
    """A validator for a schema of the document (its `$ref`s resolved within it)."""
    return Draft202012Validator({**ref_or_schema, "components": doc["components"]})


def param_schema(doc, path, name):
    (param,) = [p for p in doc["paths"][path]["get"]["parameters"] if p["name"] == name]
    return schema_of(doc, param["schema"])


def accepts(check, value):
    try:
        check(value)
    except InvalidParameter:
        return False
    return True


@pytest.mark.parametrize("value", ["u1", "用户-7", "a" * 128, "mail@example.com", " u ", "a" * 129, " ", "\u3000",
                                   "a\x00b", "a\nb", "a\x7fb", "\x85x", "x\x9f", "\x1c"])
def test_user_id_schema_is_the_route_check(doc, value):
    assert param_schema(doc, "/users/{user_id}/profile", "user_id").is_valid(value) == accepts(path_ids.user_id, value)


@pytest.mark.parametrize("value", ["a20261129t220557123456", "A-b_9", "a" * 64, "a" * 65, "", "x y", "../etc", "a.b"])
def test_audit_id_schemas_are_the_route_check(doc, value):
    valid = accepts(path_ids.audit_id, value)
    assert param_schema(doc, "/audits/{run_id}/report", "run_id").is_valid(value) == valid
    assert param_schema(doc, "/audits/{run_id}", "run_id").is_valid(value + ".csv") == valid
    assert param_schema(doc, "/audits/compare", "head").is_valid(f" {value} ") == valid  # the route strips it
    assert param_schema(doc, "/audits/{run_id}/report", "base").is_valid(f" {value} ") == (valid or not value)


def test_the_csv_export_is_documented(doc):
    assert set(doc["paths"]["/audits/{run_id}"]["get"]["responses"]["200"]["content"]) == {"application/json",
                                                                                            "text/csv"}


@pytest.mark.parametrize("value", ["a", " a ", "抱枕", " ", "\t\n", "\u3000", "\xa0", "\x85", "\x1c\x1f"])
def test_not_blank_is_what_strip_leaves(value):
    assert Draft202012Validator({"type": "string", "pattern": NOT_BLANK}).is_valid(value) == bool(value.strip())


B = {"brands": ["b"], "keywords": ["k"]}


@pytest.mark.parametrize("body", [
    B, {"pairs": [{"brand": "b", "keyword": "k"}]}, {"pairs": [{"brand": "b", "keyword": "k"}], "brands": None},
    {**B, "top_k": 5.0}, {**B, "personas": [{"label": "x", "user_id": None, "history": None}]},
    {"brands": ["b"]}, {"keywords": ["k"]}, {"brands": [], "keywords": ["k"]}, {"pairs": []}, {"pairs": None, **B},
    {"brands": [" "], "keywords": ["k"]}, {"brands": ["b"], "keywords": ["k" * 257]},
    {"pairs": [{"brand": "\x1c", "keyword": "k"}]}, {**B, "personas": [{"user_id": "u", "history": []}]},
    {**B, "personas": [{"label": "x", "typo": 1}]}, {**B, "personas": [{"label": " "}]},
])
def test_audit_request_schema_is_the_model(doc, body):
    def parse(value):
        parse_spec(value, persona=lambda i, r: Persona(r.label_at(i), user_id=r.user_id))
    assert schema_of(doc, {"$ref": "#/components/schemas/AuditRequest"}).is_valid(body) == accepts(parse, body)


@pytest.mark.parametrize("body", [
    {"q": "pillow", "brand": ["b"], "user_id": "u"}, {"q": "pillow", "history": []}, {"q": " "}, {"q": "\x1c"},
    {"q": "pillow", "brand": [" "]}, {"q": "pillow", "category": [""]}, {"q": "pillow", "user_id": " "},
    {"q": "pillow", "user_id": "u", "history": []},
])
def test_search_body_schema_is_the_model(doc, body):
    def parse(value):
        parse_search(value, history=[] if value.get("history") is not None else None)
    assert schema_of(doc, {"$ref": "#/components/schemas/SearchParams"}).is_valid(body) == accepts(parse, body)
