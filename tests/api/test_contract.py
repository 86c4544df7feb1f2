"""The published contract: every route in /openapi.json, a valid OpenAPI 3.1 document, errors as documented."""

from __future__ import annotations

import re

import pytest
from openapi_spec_validator import validate

from search_api.core.settings import ApiSettings
from search_api.http import schemas
from search_api.http.app import create_app


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
