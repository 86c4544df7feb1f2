"""The HTTP contract through Flask's test client, on a real index."""

from __future__ import annotations

import time

import pytest

from search_api.core.settings import ApiSettings
from search_api.http.app import create_app
from search_api.retrieval.runtime import Runtime

pytestmark = pytest.mark.integration


def test_building_the_app_opens_nothing():
    # nothing listens on this port: any connection attempt at build time would fail loudly
    app = create_app(ApiSettings(es_url="http://127.0.0.1:1", vectors_dir="/nonexistent", sync_seconds=0))
    runtime = app.extensions["storesearch"]
    assert "es" not in vars(runtime) and not runtime.embedder_loaded


@pytest.fixture(scope="module")
def client(sample_index, model, es):
    app = create_app(runtime=Runtime(sample_index.settings, embedder=model, es=es))
    return app.test_client()


def test_search_get_and_post(client):
    got = client.get("/search", query_string={"q": "memory foam pillow", "size": 3, "explain": "true"})
    assert got.status_code == 200
    body = got.get_json()
    assert len(body["results"]) == 3 and body["meta"]["index_version"].startswith("test-")
    first = body["results"][0]
    assert {"id", "title", "title_en", "brand", "category", "price", "score", "explain"} <= set(first)
    posted = client.post("/search", json={"q": "memory foam pillow", "size": 3})
    assert [r["id"] for r in posted.get_json()["results"]] == [r["id"] for r in body["results"]]


def test_chinese_query_over_http(client):
    body = client.get("/search", query_string={"q": "抱枕"}).get_json()
    assert body["meta"]["legs"]["semantic"].startswith("skipped")
    assert body["results"][0]["category"][-1] == "抱枕"


@pytest.mark.parametrize(("args", "field"), [
    ({}, "q"), ({"q": "x", "size": 500}, "size"), ({"q": "x", "mode": "magic"}, "mode"),
    ({"q": "x", "from": -2}, "from"), ({"q": "x", "price_min": "abc"}, "price_min"),
])
def test_bad_parameters_are_400_with_the_field(client, args, field):
    response = client.get("/search", query_string=args)
    assert response.status_code == 400
    assert response.get_json()["error"]["field"] == field
    assert response.get_json()["error"]["code"] == "invalid_parameter"


@pytest.mark.parametrize("raw", [
    '{"q": "x", "size": Infinity}', '{"q": "x", "size": -Infinity}', '{"q": "x", "size": 1e400}',
    '{"q": "x", "from": Infinity}', '{"q": "x", "from": NaN}', '{"q": "x", "price_min": NaN}',
])
def test_non_finite_numbers_in_a_body_are_400_not_500(client, raw):
    """NaN/Infinity are not JSON (RFC 8259) and 1e400 overflows: the body parser refuses them, naming `body`."""
    response = client.post("/search", data=raw, content_type="application/json")
    assert response.status_code == 400, response.get_json()
    error = response.get_json()["error"]
    assert error["field"] == "body" and error["code"] == "invalid_json"


def test_post_body_must_be_an_object(client):
    response = client.post("/search", data="[1,2]", content_type="application/json")
    assert response.status_code == 400 and response.get_json()["error"]["field"] == "body"


def test_unknown_route_is_json_404(client):
    response = client.get("/nope")
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found"


def test_health_and_readiness(client, sample_index):
    health = client.get("/healthz").get_json()
    assert health["status"] == "ok" and health["index_version"] == sample_index.report.products_index
    assert health["vector_backend"] == health["replica"]["backend"] == sample_index.settings.vector_backend
    if sample_index.settings.vector_backend == "faiss":  # kNN loads no snapshot to count
        assert health["replica"]["vectors"] == 2000
    assert client.get("/readyz").status_code == 200


def test_no_index_yet_is_503_not_500(es, isolated, model):
    app = create_app(runtime=Runtime(isolated, embedder=model, es=es))
    response = app.test_client().get("/search", query_string={"q": "pillow"})
    assert response.status_code == 503 and response.get_json()["error"]["code"] == "unavailable"
    assert app.test_client().get("/readyz").status_code == 503


def test_unreachable_elasticsearch_is_a_fast_503(model, tmp_path):
    """Default timeouts (30 s): what makes the answer fast is the client, not a short test setting."""
    settings = ApiSettings(es_url="http://127.0.0.1:1", vectors_dir=tmp_path, sync_seconds=0)
    app = create_app(runtime=Runtime(settings, embedder=model))
    for _ in range(settings.es_breaker_failures + 2):  # refused, then refused at once by the open circuit
        started = time.monotonic()
        response = app.test_client().get("/search", query_string={"q": "pillow"})
        assert time.monotonic() - started <= 1.0
        assert response.status_code == 503 and response.get_json()["error"]["code"] == "search_unavailable"
        assert "Connection refused" not in response.get_data(as_text=True)  # Elasticsearch's words go to the log
    assert app.extensions["storesearch"].breaker.state.value == "open"
    ready = app.test_client().get("/readyz")
    assert ready.status_code == 503 and ready.get_json() == {"ready": False, "reason": "Elasticsearch unavailable"}
    assert app.test_client().get("/healthz").get_json()["status"] == "degraded"
