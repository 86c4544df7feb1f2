"""Hardening of the HTTP layer: security headers, CORS, body limits, path ids, opaque 5xx, server errors.

Most of it never reaches Elasticsearch (the app points at a closed port); where the point is what
Elasticsearch would have said, the app talks to the real node.
"""

from __future__ import annotations

import json
import logging
import threading

import pytest

from indexer.index_format import engine_errors
from search_api.core.settings import ApiSettings
from search_api.http.app import create_app
from search_api.http.headers import JSON_CSP
from search_api.http.server import make_server
from search_api.retrieval.runtime import Runtime
from tests.serving import raw

KEY = {"X-API-Key": "k"}
DEEP = "[" * 10_000 + "]" * 10_000
ES_WORDS = ("x_content_parse_exception", "Term is longer", "Connection refused", "Elasticsearch", "HTTP 400",
            "alias")


def offline_app(**changes):
    """An app whose Elasticsearch is a closed port: every guard here must answer before it is asked."""
    settings = ApiSettings(es_url="http://127.0.0.1:1", vectors_dir="/nonexistent", sync_seconds=0,
                           alias_check_seconds=0, request_timeout_s=1.0, api_key="k", **changes)
    return create_app(settings)


@pytest.fixture(scope="module")
def client():
    return offline_app().test_client()


def assert_security_headers(response):
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Content-Security-Policy"] == JSON_CSP


@pytest.mark.parametrize(("method", "path", "status"), [
    ("get", "/search", 400), ("get", "/nope", 404), ("post", "/events", 401), ("delete", "/search", 405),
    ("options", "/search", 200)])
def test_every_answer_carries_the_security_headers(client, method, path, status):
    response = getattr(client, method)(path)
    assert response.status_code == status
    assert_security_headers(response)
    assert "Access-Control-Allow-Origin" not in response.headers and "Vary" not in response.headers


@pytest.mark.parametrize(("method", "path", "allowed"), [
    ("trace", "/search", {"GET", "POST"}), ("delete", "/events", {"POST"}), ("put", "/audits/a1", {"GET"})])
def test_405_says_which_methods_are_allowed(client, method, path, allowed):
    # found by the fuzzer: the JSON error handler dropped werkzeug's `Allow` header (RFC 9110 requires it)
    response = client.open(path, method=method.upper(), headers=KEY)
    assert response.status_code == 405
    assert allowed <= {m.strip() for m in response.headers["Allow"].split(",")}
    assert response.get_json()["error"]["code"] == "method_not_allowed" and response.mimetype == "application/json"


@pytest.fixture(scope="module")
def cors_client():
    return offline_app(cors_origins=("https://shop.example", "http://localhost:3000")).test_client()


def test_preflight_from_an_allowed_origin(cors_client):
    response = cors_client.options("/search", headers={
        "Origin": "https://shop.example", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type, x-api-key"})
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "https://shop.example"
    assert {"GET", "POST"} <= {m.strip() for m in response.headers["Access-Control-Allow-Methods"].split(",")}
    allowed_headers = {h.strip().lower() for h in response.headers["Access-Control-Allow-Headers"].split(",")}
    assert {"content-type", "x-api-key"} <= allowed_headers
    assert "Origin" in response.vary


def test_allowed_origin_is_echoed_on_answers_errors_included(cors_client):
    response = cors_client.get("/search", headers={"Origin": "http://localhost:3000"})  # 400: no q
    assert response.status_code == 400
    assert response.headers["Access-Control-Allow-Origin"] == "http://localhost:3000"
    assert "Origin" in response.vary and "Access-Control-Allow-Methods" not in response.headers
    assert_security_headers(response)


@pytest.mark.parametrize("origin", ["https://evil.example", "https://shop.example.evil.example", "null",
                                    "http://shop.example", None])
def test_other_origins_get_no_cors_headers(cors_client, origin):
    headers = {"Access-Control-Request-Method": "POST", **({"Origin": origin} if origin else {})}
    for response in (cors_client.options("/search", headers=headers), cors_client.get("/search", headers=headers)):
        assert not [h for h in response.headers.keys() if h.startswith("Access-Control-")]
        assert "Origin" in response.vary  # a cache must not hand this answer to an allowed origin


@pytest.mark.parametrize(("path", "headers"), [("/search", {}), ("/audits", KEY), ("/events", KEY)])
@pytest.mark.parametrize("body", [DEEP, '{"q": "pillow", "size": NaN}', '{"q": "pillow", "price_min": -Infinity}',
                                  '{"q": "pillow", "price_max": 1e400}', '[{"user_id": "u", "dwell_ms": Infinity}]'])
def test_bodies_beyond_the_parser_are_400_invalid_json(client, path, headers, body):
    response = client.post(path, data=body, content_type="application/json", headers=headers)
    assert response.status_code == 400, response.get_json()
    assert response.get_json()["error"]["code"] == "invalid_json"
    assert response.get_json()["error"]["field"] == "body"


def test_json_depth_is_a_setting():
    shallow = offline_app(max_json_depth=3).test_client()
    body = {"q": "pillow", "history": [{"product_id": "P1", "x": [[1]]}]}  # 4 levels
    response = shallow.post("/search", json=body)
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "invalid_json"


@pytest.mark.parametrize(("path", "headers"), [("/search", {}), ("/events", KEY)])
def test_malformed_json_keeps_its_old_answer(client, path, headers):
    response = client.post(path, data="{nope", content_type="application/json", headers=headers)
    assert response.status_code == 400
    assert response.get_json()["error"] | {"message": None} == {"code": "invalid_parameter", "field": "body",
                                                                  "message": None}


@pytest.mark.parametrize(("path", "headers"), [("/search", {}), ("/audits", KEY), ("/events", KEY)])
def test_oversized_bodies_are_413_naming_body(path, headers):
    small = offline_app(max_body_bytes=1024).test_client()
    response = small.post(path, data=json.dumps({"q": "x" * 2000}), content_type="application/json", headers=headers)
    assert response.status_code == 413
    assert response.get_json()["error"] == {"code": "payload_too_large", "field": "body",
                                            "message": "body is larger than 1024 bytes"}
    assert_security_headers(response)


@pytest.fixture(scope="module")
def real_client(es, es_url, tmp_path_factory):
    """An app on the real node, under a prefix that holds nothing."""
    from tests.conftest import drop_prefix, fresh_settings

    settings = fresh_settings(es_url, tmp_path_factory.mktemp("hardening")).with_(api_key="k")
    yield create_app(runtime=Runtime(settings, es=es)).test_client()
    drop_prefix(es, settings.prefix)


@pytest.mark.integration
@pytest.mark.parametrize(("path", "field"), [
    ("/users/" + "a" * 40_000 + "/profile", "user_id"), ("/users/a%00b/profile", "user_id"),
    ("/audits/" + "a" * 10_000, "id"), ("/audits/" + "a" * 10_000 + ".csv", "id"),
    ("/audits/" + "a" * 10_000 + "/report", "id"), ("/audits/a1/report?base=" + "b" * 10_000, "base"),
    ("/audits/compare?base=a1&head=" + "h" * 10_000, "head"), ("/audits/compare?base=x%20y&head=a1", "base"),
])
def test_odd_path_ids_are_400_naming_the_field(real_client, path, field):
    response = real_client.get(path, headers=KEY)
    assert response.status_code == 400, response.get_json()
    error = response.get_json()["error"]
    assert error["field"] == field and error["code"] == "invalid_parameter"
    assert not [w for w in ES_WORDS if w in error["message"]]


@pytest.mark.integration
def test_a_well_formed_unknown_id_is_still_404(real_client):
    response = real_client.get("/audits/nope", headers=KEY)
    assert response.status_code == 404 and response.get_json()["error"]["field"] == "id"


def test_protected_routes_check_the_key_before_the_id(client):
    assert client.get("/users/" + "a" * 40_000 + "/profile").status_code == 401


@pytest.mark.integration
def test_elasticsearch_errors_reach_the_log_not_the_client(es, real_client, caplog):
    app = create_app(runtime=real_client.application.extensions["storesearch"])

    @app.get("/test-only/engine-error")
    def _engine_error():  # type: ignore[no-untyped-def]
        with engine_errors("reading events"):  # Elasticsearch's real refusal of an over-long term
            es.search(index=f"{app.extensions['storesearch'].settings.prefix}-*", allow_no_indices=True,
                      query={"term": {"user_id": "a" * 40_000}})
        return "unreachable"

    with caplog.at_level(logging.WARNING, logger="search_api.http.app"):
        response = app.test_client().get("/test-only/engine-error")
    assert response.status_code == 503
    assert response.get_json() == {"error": {"code": "unavailable",
                                             "message": "the service is temporarily unavailable; try again later"}}
    assert "Term is longer than maximum indexable length" in caplog.text


def test_unreachable_storage_is_an_opaque_503(client, caplog):
    with caplog.at_level(logging.WARNING, logger="search_api.http.app"):
        response = client.get("/users/u1/profile", headers=KEY)
    assert response.status_code == 503 and response.get_json()["error"]["code"] == "unavailable"
    assert not [w for w in ES_WORDS if w in response.get_data(as_text=True)]
    assert "Connection refused" in caplog.text
    ready = client.get("/readyz")
    assert ready.status_code == 503 and "Connection refused" not in ready.get_data(as_text=True)
    health = client.get("/healthz").get_json()
    assert health["status"] == "degraded" and health["elasticsearch"] == "unreachable"


@pytest.fixture(scope="module")
def served():
    """The app behind the real server (waitress) on a free port."""
    server = make_server(offline_app(), host="127.0.0.1", port=0, threads=1)
    stopping = threading.Event()

    def run() -> None:
        try:
            server.run()
        except OSError:  # its select() can still hold the socket close() just shut: only then expected
            if not stopping.is_set():
                raise

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    yield server.effective_port
    stopping.set()
    server.task_dispatcher.shutdown()
    server.close()
    thread.join(5)


@pytest.mark.parametrize("request_line", [b"GET /search?q=\xff\xfe HTTP/1.1", b"GET /users/\xc3/profile HTTP/1.1",
                                          b"G\xffT /search HTTP/1.1"])
def test_raw_non_utf8_request_lines_get_a_json_400(served, request_line):
    status, headers, body = raw(served, request_line + b"\r\nHost: x\r\n\r\n")
    assert " 400 " in status
    assert headers["content-type"] == "application/json" and headers["x-content-type-options"] == "nosniff"
    error = json.loads(body)["error"]
    assert error["code"] == "bad_request" and error["message"].startswith("Bad Request")


def test_percent_encoded_non_utf8_reaches_the_app(served):
    # werkzeug decodes it with replacement characters, so the app's own JSON answers it
    status, headers, body = raw(served, b"GET /users/%FF%FE/profile HTTP/1.1\r\nHost: x\r\n\r\n")
    assert " 401 " in status and json.loads(body)["error"]["code"] == "unauthorized"
