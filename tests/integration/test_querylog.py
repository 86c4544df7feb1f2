"""The query log, clicks and analytics against a real Elasticsearch (through the Flask client)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from indexer.index_format import make_client
from search_api.analytics.querylog import QueryLog
from search_api.brands.audit_spec import AuditSpec, Persona
from search_api.brands.audits import new_run, run
from search_api.core import daily
from search_api.http.app import create_app
from search_api.retrieval.runtime import Runtime

pytestmark = pytest.mark.integration
KEY = {"X-API-Key": "secret"}


@pytest.fixture
def settings(sample_index, isolated, es):
    # products from the session sample (read-only); events and the query log under this test's prefix
    yield sample_index.settings.with_(api_key="secret", events_prefix=isolated.prefix, query_log=True)
    for family in ("events", "queries"):
        daily.drop_template(es, f"{isolated.prefix}-{family}", family)


@pytest.fixture
def runtime(settings, model, es):
    rt = Runtime(settings, embedder=model, es=es)
    yield rt
    rt.query_log.close()


@pytest.fixture
def client(runtime):
    return create_app(runtime=runtime).test_client()


def until(check: Callable[[], Any], timeout: float = 10.0) -> Any:
    """Poll `check` until it returns something truthy (Elasticsearch refreshes every second)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.1)


def logged(es, settings, query_id: str) -> dict[str, Any] | None:
    es.indices.refresh(index=f"{settings.queries_alias}-*", ignore_unavailable=True, allow_no_indices=True)
    hits = es.search(index=settings.queries_alias, query={"ids": {"values": [query_id]}},
                     ignore_unavailable=True, allow_no_indices=True)["hits"]["hits"]
    return hits[0]["_source"] if hits else None


def test_every_search_is_logged_with_what_it_showed(client, runtime, es, settings):
    body = client.get("/search", query_string={"q": "Memory Foam Pillow", "size": 5, "brand": "x-none"}).get_json()
    plain = client.get("/search", query_string={"q": "pillow", "size": 5}).get_json()
    assert runtime.query_log.flush()
    doc = until(lambda: logged(es, settings, plain["meta"]["query_id"]))
    assert doc["q"] == "pillow" and doc["origin"] == "search" and doc["anonymous"]
    assert doc["results"] == [r["id"] for r in plain["results"]] and doc["last_position"] == 5
    assert doc["total"] == plain["meta"]["total"] and doc["legs"] == plain["meta"]["legs"]
    filtered = logged(es, settings, body["meta"]["query_id"])
    assert filtered["raw"] == "Memory Foam Pillow" and filtered["q"] == "memory foam pillow"
    assert filtered["filters"] == ["brand:x-none"] and filtered["zero_result"] is True
    assert runtime.query_log.stats()["written"] == 2
    assert client.get("/healthz").get_json()["query_log"]["written"] == 2


def test_audit_cells_are_logged_as_audits_and_left_out_of_analytics(client, runtime, settings):
    audit = run(runtime, new_run(AuditSpec((("b", "抱枕"),), (Persona("anonymous"),), top_k=10)))
    assert audit.status == "done"
    client.get("/search", query_string={"q": "抱枕"})
    assert runtime.query_log.flush()
    counted = until(lambda: client.get("/analytics", query_string={"days": 1}, headers=KEY).get_json()["searches"])
    assert counted == 1 and runtime.query_log.stats()["written"] == 2


def test_a_click_reaches_the_analytics_and_the_profile(client, runtime, es, settings):
    answer = client.get("/search", query_string={"q": "dog food", "size": 5}).get_json()
    assert runtime.query_log.flush()
    until(lambda: logged(es, settings, answer["meta"]["query_id"]))
    clicked = answer["results"][2]
    out = client.post("/clicks", json={"query_id": answer["meta"]["query_id"], "product_id": clicked["id"],
                                       "position": 3, "user_id": "shopper-1"})
    assert out.status_code == 202 and out.get_json() == {"accepted": True, "known_query": True}

    def third_clicked() -> dict[str, Any] | None:
        stats = client.get("/analytics", query_string={"days": 1}, headers=KEY).get_json()
        return stats if stats["ctr_by_position"][2]["clicks"] == 1 else None

    stats = until(third_clicked)
    assert stats["ctr_by_position"][2] == {"position": 3, "impressions": 1, "clicks": 1, "ctr": 1.0}
    assert stats["mrr"] == pytest.approx(1 / 3, abs=1e-3) and stats["top_queries"][0]["query"] == "dog food"
    assert until(lambda: client.get("/users/shopper-1/profile", headers=KEY).get_json()["events"]) == 1


def test_a_click_before_the_log_refreshed_still_counts_for_its_query(client, runtime, es, settings):
    # a shopper clicks a moment after the answer: its record is written but not yet searchable
    client.get("/search", query_string={"q": "cat", "size": 1})  # creates today's log index
    assert runtime.query_log.flush()
    es.indices.put_settings(index=f"{settings.queries_alias}-*", settings={"index.refresh_interval": -1})
    answer = client.get("/search", query_string={"q": "cat toy", "size": 5}).get_json()
    assert runtime.query_log.flush()
    out = client.post("/clicks", json={"query_id": answer["meta"]["query_id"],
                                       "product_id": answer["results"][0]["id"], "position": 1})
    assert out.get_json() == {"accepted": True, "known_query": True}
    es.indices.refresh(index=f"{settings.queries_alias}-*")

    def counted() -> dict[str, Any] | None:
        top = client.get("/analytics", query_string={"days": 1}, headers=KEY).get_json()["top_queries"]
        return next((t for t in top if t["query"] == "cat toy" and t["clicks"]), None)

    assert until(counted) == {"query": "cat toy", "count": 1, "clicks": 1, "ctr": 1.0}


def test_clicks_and_events_with_bad_query_fields_are_400_naming_them(client):
    qid = "0" * 32
    cases = [({"query_id": "not-an-id", "product_id": "p", "position": 1}, "query_id"),
             ({"query_id": qid, "product_id": "p", "position": 0}, "position"),
             ({"query_id": qid, "product_id": "p", "position": "2"}, "position"),
             ({"query_id": qid, "product_id": "p"}, "position")]
    for body, field in cases:
        out = client.post("/clicks", json=body)
        assert out.status_code == 400 and out.get_json()["error"]["field"] == field, body
    event = {"user_id": "u", "product_id": "p", "action": "click", "source": "search"}
    for extra, field in (({"query_id": "x" * 32, "position": 2}, "query_id"), ({"query_id": qid, "position": -1},
                                                                                 "position")):
        out = client.post("/events", headers=KEY, json=[{**event, **extra}])
        assert out.status_code == 400 and out.get_json()["error"]["field"] == field, extra
    assert client.get("/analytics", query_string={"days": 5000}, headers=KEY).status_code == 400
    assert client.get("/analytics", query_string={"days": 3650}, headers=KEY).get_json()["window"]["days"] == 90
    unknown = client.post("/events", headers=KEY, json=[{**event, "query_id": qid, "position": 1}])
    assert unknown.status_code == 200 and unknown.get_json()["unknown_queries"] == 1


def test_a_refusing_or_unreachable_engine_drops_and_counts_without_slowing_searches(settings, es):
    dead = QueryLog(settings, lambda: make_client(settings.with_(es_url="http://127.0.0.1:1", request_timeout_s=0.5)))
    started = time.perf_counter()
    for i in range(20):
        dead.record({"query_id": f"{i:032x}", "ts": "2026-11-30T00:00:00+00:00", "q": "x"})
    assert time.perf_counter() - started < 0.05  # never waits on Elasticsearch
    assert dead.flush(30) and dead.stats() == {"queued": 0, "written": 0, "dropped": 20}
    dead.close()
    live = QueryLog(settings, lambda: es)
    live.record({"query_id": "a" * 32, "ts": "2026-11-30T00:00:00+00:00", "q": "ok"})
    live.record({"query_id": "b" * 32, "ts": "2026-11-30T00:00:00+00:00", "q": "x", "no_such_field": 1})
    assert live.flush() and live.stats() == {"queued": 0, "written": 1, "dropped": 1}  # strict mapping refused one
    live.close()


def test_a_full_queue_drops_and_counts(settings, es):
    stalled, release = threading.Event(), threading.Event()

    def slow_engine():
        stalled.set()
        release.wait(10)  # Elasticsearch stalls while the shoppers keep searching
        return es

    log = QueryLog(settings.with_(query_log_queue=5), slow_engine)
    log.record({"query_id": "c" * 32, "ts": "2026-11-30T00:00:00+00:00", "q": "first"})
    assert stalled.wait(5)
    for i in range(12):
        log.record({"query_id": f"{i + 1:032x}", "ts": "2026-11-30T00:00:00+00:00", "q": "more"})
    assert log.stats()["dropped"] == 7 and log.stats()["queued"] == 5
    release.set()
    assert log.flush() and log.stats() == {"queued": 0, "written": 6, "dropped": 7}
    log.close()


def test_the_analytics_cli(settings):
    env = {"ES_URL": settings.es_url, "STORESEARCH_PREFIX": settings.prefix,
           "STORESEARCH_EVENTS_PREFIX": settings.events_prefix or ""}
    bad = subprocess.run([sys.executable, "-m", "search_api.cli", "analytics", "--days", "0"], capture_output=True,
                         text=True, env={**os.environ, **env}, timeout=120)
    assert bad.returncode == 2 and bad.stderr.strip().count("\n") == 0 and "--days" in bad.stderr
    ok = subprocess.run([sys.executable, "-m", "search_api.cli", "analytics", "--json"], capture_output=True,
                        text=True, env={**os.environ, **env}, timeout=120)
    assert ok.returncode == 0 and '"searches": 0' in ok.stdout


def test_click_judgments_correct_for_position(runtime, es, settings, tmp_path):
    from search_api.analytics.judgments import click_judgments, grade
    from search_api.personal.events import Event
    from search_api.personal.ingest import store

    now = time.time()
    log = runtime.query_log
    ts = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(now))
    # "pillow" shown 10 times with A at position 1 and B at position 2; a hub query shows C first 10 times
    for i in range(10):
        log.record({"query_id": f"{i:032x}", "ts": ts, "origin": "search", "q": "pillow", "offset": 0,
                    "results": ["A", "B"]})
        log.record({"query_id": f"{i + 100:032x}", "ts": ts, "origin": "search", "q": "hub", "offset": 0,
                    "results": ["C", "D"]})
    assert log.flush() and log.stats()["written"] == 20
    es.indices.refresh(index=f"{settings.queries_alias}-*")
    from datetime import UTC, datetime

    clicks = [Event("", "B", "click", "search", datetime.now(UTC), query_id=f"{i:032x}", position=2) for i in range(4)]
    clicks += [Event("", "C", "click", "search", datetime.now(UTC), query_id=f"{i + 100:032x}", position=1)
               for i in range(10)]
    stored = store(runtime, clicks, refresh="wait_for")
    assert stored["accepted"] == 14, stored["rejected"][:2]
    rows = {r["query"]: r["ratings"] for r in click_judgments(es, settings, days=1, min_impressions=5)}
    # position 1 gets 10 of 20 impressions clicked (CTR .5), position 2 gets 4 of 20 (.2):
    # B's 4 clicks at position 2 over 10 × .2 expected → COEC 2 → gain 3; A never clicked → 0
    assert rows["pillow"] == {"A": 0, "B": 3} and rows["hub"]["C"] == grade(10 / 5)
    assert [grade(x) for x in (2.5, 1.0, 0.6, 0.1)] == [3, 2, 1, 0]
    out = tmp_path / "judged.json"
    env = {**os.environ, "ES_URL": settings.es_url, "STORESEARCH_PREFIX": settings.prefix,
           "STORESEARCH_EVENTS_PREFIX": settings.events_prefix or ""}
    made = subprocess.run([sys.executable, "-m", "search_api.cli", "judgments", "--days", "1", "--out", str(out)],
                          capture_output=True, text=True, env=env, timeout=120)
    assert made.returncode == 0 and out.exists()
    bad = subprocess.run([sys.executable, "-m", "search_api.cli", "eval", str(tmp_path / "missing.json")],
                         capture_output=True, text=True, env=env, timeout=120)
    assert bad.returncode == 2 and "missing.json" in bad.stderr and bad.stderr.count("\n") == 1


def test_popular_past_queries_are_suggested(client, runtime, es, settings):
    from search_api.suggest.params import SuggestRequest
    from search_api.suggest.service import suggest

    for q in ["pillow for neck pain"] * 3 + ["pillow for naps"]:
        assert client.get("/search", query_string={"q": q}).get_json()["results"]
    assert runtime.query_log.flush()
    es.indices.refresh(index=f"{settings.queries_alias}-*")
    texts = {s["text"]: s["kind"] for s in suggest(runtime, SuggestRequest(q="pillow for n", size=10))["suggestions"]}
    # searched three times: a suggestion for everyone; searched once: one shopper's, not suggested
    assert texts.get("pillow for neck pain") == "query" and "pillow for naps" not in texts
