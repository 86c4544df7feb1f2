"""GET /metrics through Flask's test client: access modes, then the series a real search writes."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

from search_api.core.settings import ApiSettings
from search_api.http.app import create_app
from search_api.retrieval.runtime import Runtime
from tests.fakes import HashEmbedder

NOWHERE = "http://127.0.0.1:1"


def scrape(client, **headers):
    answer = client.get("/metrics", headers=headers)
    assert answer.status_code == 200, answer.get_data(as_text=True)[:300]
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(answer.get_data(as_text=True)) for s in family.samples}


def delta(before, after, name, **labels):
    key = (name, tuple(sorted(labels.items())))
    return after.get(key, 0.0) - before.get(key, 0.0)


def test_metrics_are_on_by_default_as_prometheus_text():
    client = create_app(ApiSettings(es_url=NOWHERE, sync_seconds=0)).test_client()
    answer = client.get("/metrics")
    assert answer.status_code == 200 and answer.mimetype == "text/plain"
    assert "version=0.0.4" in answer.content_type and answer.headers["Cache-Control"] == "no-store"
    assert answer.headers["X-Content-Type-Options"] == "nosniff"


def test_metrics_off_is_an_unknown_route():
    client = create_app(ApiSettings(es_url=NOWHERE, sync_seconds=0, metrics="off")).test_client()
    off, unknown = client.get("/metrics"), client.get("/no-such-route")
    assert off.status_code == 404 and off.get_json() == unknown.get_json()


def test_metrics_key_needs_the_api_key():
    client = create_app(ApiSettings(es_url=NOWHERE, sync_seconds=0, metrics="key", api_key="s3cret")).test_client()
    assert client.get("/metrics").get_json()["error"]["code"] == "unauthorized"
    assert client.get("/metrics", headers={"X-API-Key": "nope"}).status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer s3cret"}).status_code == 200


def test_routes_are_labelled_by_rule_not_by_path():
    client = create_app(ApiSettings(es_url=NOWHERE, sync_seconds=0, api_key="k")).test_client()
    before = scrape(client)
    for run in ("a1", "b2", "c3"):
        client.get(f"/audits/{run}")  # 401 without the key: three paths, one rule
    client.get("/random/path/1")
    client.open("/search", method="BREW")
    after = scrape(client)
    assert delta(before, after, "storesearch_http_requests_total", route="/audits/<run_id>", method="GET",
                 status="401", code="unauthorized") == 3
    assert delta(before, after, "storesearch_http_requests_total", route="unmatched", method="GET", status="404",
                 code="not_found") == 1
    assert delta(before, after, "storesearch_http_requests_total", route="unmatched", method="other", status="405",
                 code="method_not_allowed") == 1
    # no series of any request names a path (other series' labels, e.g. a test prefix's hex, may hold "a1")
    routes = {value for name, labels in after if name.startswith("storesearch_http_")
              for key, value in labels if key == "route"}
    assert routes and not any("a1" in route or "random" in route for route in routes), routes


@pytest.fixture(scope="module")
def client(sample_index, model, es):
    return create_app(runtime=Runtime(sample_index.settings, embedder=model, es=es)).test_client()


@pytest.mark.integration
def test_a_search_and_an_error_leave_their_series(client, sample_index):
    before = scrape(client)
    answers = [client.get("/search", query_string={"q": "memory foam metrics"}),
               client.get("/search", query_string={"q": "memory foam metrics", "size": 5}),
               client.get("/search", query_string={"q": "记忆棉"})]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert [a.get_json()["brand_zone"] for a in answers] == [None] * 3  # one search pass each
    assert client.get("/search", query_string={"q": "x", "size": 500}).status_code == 400
    after = scrape(client)

    requests = "storesearch_http_requests_total"
    assert delta(before, after, requests, route="/search", method="GET", status="200", code="") == 3
    assert delta(before, after, requests, route="/search", method="GET", status="400", code="invalid_parameter") == 1
    assert delta(before, after, "storesearch_http_request_duration_seconds_count", route="/search",
                 method="GET") == 4
    assert delta(before, after, "storesearch_http_request_duration_seconds_bucket", route="/search", method="GET",
                 le="+Inf") == 4  # (a first search on a loaded machine may take over the last finite bucket)
    outcomes = "storesearch_leg_outcomes_total"
    assert delta(before, after, outcomes, leg="keyword", outcome="ok") == 3
    assert delta(before, after, outcomes, leg="semantic", outcome="ok") == 2
    assert delta(before, after, outcomes, leg="semantic", outcome="skipped") == 1
    steps = "storesearch_search_step_duration_seconds_count"
    assert {step: delta(before, after, steps, step=step) for step in
            ("keyword", "semantic_encode", "semantic_search", "page", "personal", "profile")} == {
        "keyword": 3, "semantic_encode": 2, "semantic_search": 2, "page": 3, "personal": 0, "profile": 0}
    lookups = "storesearch_query_vector_lookups_total"
    assert delta(before, after, lookups, result="miss") == 1 and delta(before, after, lookups, result="hit") == 1
    assert after[("storesearch_index_version_info", (("version", sample_index.report.products_index),))] == 1
    alias = sample_index.settings.products_alias
    # a FAISS replica follows the change log; with Elasticsearch kNN there is none to follow
    following = ("storesearch_replica_applied_seq", (("alias", alias),)) in after
    assert following is (sample_index.settings.vector_backend == "faiss")
    assert delta(before, after, "storesearch_degraded_answers_total", cause="semantic") == 0


class BrokenEmbedder(HashEmbedder):
    def embed_query(self, text):
        raise RuntimeError("model gone")


@pytest.mark.integration
def test_a_degraded_answer_is_counted_by_its_cause(sample_index, es):
    client = create_app(runtime=Runtime(sample_index.settings, embedder=BrokenEmbedder(384), es=es)).test_client()
    before = scrape(client)
    answer = client.get("/search", query_string={"q": "pillow"})
    body = answer.get_json()
    assert answer.status_code == 200 and body["meta"]["degraded"] is True and body["brand_zone"] is not None
    after = scrape(client)
    # one degraded answer, though its brand zone's search pass lost its semantic leg too
    assert delta(before, after, "storesearch_degraded_answers_total", cause="semantic") == 1
    passes = delta(before, after, "storesearch_leg_outcomes_total", leg="keyword", outcome="ok")
    assert passes >= 2
    assert delta(before, after, "storesearch_leg_outcomes_total", leg="semantic", outcome="failed") == passes


@pytest.mark.integration
def test_events_are_counted_as_elasticsearch_answered(sample_index, isolated, model, es):
    settings = sample_index.settings.with_(api_key="k", events_prefix=isolated.prefix)
    client = create_app(runtime=Runtime(settings, embedder=model, es=es)).test_client()
    try:
        before = scrape(client)
        answer = client.post("/events?refresh=true", headers={"X-API-Key": "k"}, json=[
            {"user_id": "m1", "product_id": "P0000001", "action": "view", "source": "feed"},
            {"user_id": "m1", "product_id": "NO-SUCH-PRODUCT", "action": "click", "source": "search"}])
        assert answer.status_code == 200 and answer.get_json()["unknown_products"] == 1
        after = scrape(client)
    finally:
        es.options(ignore_status=404).indices.delete_index_template(name=f"{isolated.prefix}-events")
    assert delta(before, after, "storesearch_events_total", outcome="accepted") == 2
    assert delta(before, after, "storesearch_events_total", outcome="rejected") == 0
    assert delta(before, after, "storesearch_events_unknown_products_total") == 1
    assert delta(before, after, "storesearch_http_requests_total", route="/events", method="POST", status="200",
                 code="") == 1
