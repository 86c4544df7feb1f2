"""POST /events, profiles and retention against a real Elasticsearch (through the Flask client)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from search_api import cli
from search_api.http.app import create_app
from search_api.personal import event_store
from search_api.personal.events import Event
from search_api.retrieval.runtime import Runtime

pytestmark = pytest.mark.integration
KEY = {"X-API-Key": "secret"}


@pytest.fixture
def settings(sample_index, isolated, es):
    # products from the session sample (read-only); events under this test's own prefix
    yield sample_index.settings.with_(api_key="secret", events_prefix=isolated.prefix)
    es.options(ignore_status=404).indices.delete_index_template(name=f"{isolated.prefix}-events")


@pytest.fixture
def client(settings, model, es):
    return create_app(runtime=Runtime(settings, embedder=model, es=es)).test_client()


def ids(sample_index, leaf, n):
    import json

    rows = (json.loads(line) for line in sample_index.products.read_text(encoding="utf-8").splitlines())
    return [r["id"] for r in rows if r["category"][-1] == leaf and r["status"] == "on_sale"][:n]


def test_events_need_the_api_key_but_search_does_not(client):
    assert client.post("/events", json=[]).status_code == 401
    wrong = client.post("/events", json=[], headers={"X-API-Key": "nope"})
    assert wrong.status_code == 401 and wrong.get_json()["error"]["code"] == "unauthorized"
    assert client.get("/users/u1/profile").status_code == 401
    assert client.get("/search", query_string={"q": "pillow"}).status_code == 200


def test_invalid_batches_are_400_naming_index_and_field(client, es, settings):
    bad = client.post("/events", headers=KEY, json=[
        {"user_id": "u1", "product_id": "P0000001", "action": "view", "source": "feed"},
        {"user_id": "u1", "product_id": "P0000001", "action": "teleport", "source": "feed"}])
    error = bad.get_json()["error"]
    assert bad.status_code == 400 and error["index"] == 1 and error["field"] == "action"
    future = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    late = client.post("/events", headers=KEY, json=[
        {"user_id": "u1", "product_id": "P1", "action": "view", "source": "feed", "ts": future}])
    assert late.status_code == 400 and late.get_json()["error"]["field"] == "ts"
    too_many = client.post("/events", headers=KEY,
                           json=[{"user_id": "u", "product_id": "p", "action": "view", "source": "feed"}]
                           * (settings.events_batch_max + 1))
    assert too_many.status_code == 400 and too_many.get_json()["error"]["field"] == "body"
    assert client.post("/events", headers=KEY, data="{not json").status_code == 400
    # nothing of a refused batch was written
    assert not es.indices.exists_alias(name=settings.events_alias)


def test_accepted_events_are_stored_daily_behind_the_alias(client, es, settings, sample_index):
    known = ids(sample_index, "孕妇枕", 3)
    yesterday = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    batch = [{"user_id": "u1", "product_id": pid, "action": "click", "source": "feed"} for pid in known]
    batch += [{"user_id": "u1", "product_id": "NO-SUCH-PRODUCT", "action": "view", "source": "search",
               "ts": yesterday, "dwell_ms": 1200}]
    response = client.post("/events?refresh=wait_for", headers=KEY, json=batch)
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {"accepted": 4, "rejected": [], "unknown_products": 1, "unknown_queries": 0}
    days = sorted(es.indices.get_alias(name=settings.events_alias))
    today = event_store.day_index(settings, datetime.now(UTC).date())
    assert today in days and len(days) == 2  # yesterday's event went to yesterday's index
    assert es.count(index=settings.events_alias)["count"] == 4


def test_profile_reads_events_and_is_rebuilt_after_new_ones(client, sample_index):
    pregnancy, car = ids(sample_index, "孕妇枕", 5), ids(sample_index, "汽车头枕", 20)
    client.post("/events?refresh=wait_for", headers=KEY, json=[
        {"user_id": "u2", "product_id": pid, "action": "add_to_cart", "source": "feed"} for pid in pregnancy])
    first = client.get("/users/u2/profile", headers=KEY).get_json()
    assert first["events"] == 5 and first["top_categories"][0] == {"category": "孕妇枕", "share": 1.0}
    assert first["has_vector"] and first["last_event"] and first["top_brands"]
    client.post("/events?refresh=wait_for", headers=KEY, json=[
        {"user_id": "u2", "product_id": pid, "action": "order", "source": "live"} for pid in car])
    second = client.get("/users/u2/profile", headers=KEY).get_json()  # cached profile was dropped
    assert second["events"] == 25 and second["top_categories"][0]["category"] == "汽车头枕"
    empty = client.get("/users/nobody/profile", headers=KEY).get_json()
    assert empty["events"] == 0 and empty["top_brands"] == [] and not empty["has_vector"]


def test_retention_drops_only_old_days(client, es, settings, monkeypatch, capsys):
    now = datetime.now(UTC)
    batch = [{"user_id": "u3", "product_id": "P0000001", "action": "view", "source": "mall",
              "ts": (now - timedelta(days=age)).isoformat()} for age in (0, 3, 10, 20)]
    assert client.post("/events?refresh=true", headers=KEY, json=batch).get_json()["accepted"] == 4
    dropped = event_store.drop_older_than(es, settings, 15, dry_run=True)
    assert dropped == [event_store.day_index(settings, (now - timedelta(days=20)).date())]
    monkeypatch.setenv("ES_URL", settings.es_url)
    monkeypatch.setenv("STORESEARCH_PREFIX", settings.prefix)
    monkeypatch.setenv("STORESEARCH_EVENTS_PREFIX", settings.events_prefix)
    assert cli.main(["events-retention", "--days", "5"]) == 0
    assert "dropped 2 events indices" in capsys.readouterr().out
    left = sorted(es.indices.get_alias(name=settings.events_alias))
    assert left == sorted(event_store.day_index(settings, (now - timedelta(days=a)).date()) for a in (0, 3))
    assert cli.main(["events-retention", "--days", "0"]) == 2


def drifted_day(es, settings, day):
    """Create `day`'s events index as an older template might have: `dwell_ms` a byte, not a long."""
    event_store.ensure_template(es, settings)  # the alias comes from the template
    name = event_store.day_index(settings, day)
    es.indices.create(index=name, mappings={"properties": {"dwell_ms": {"type": "byte"}}})
    assert es.indices.get_mapping(index=name)[name]["mappings"]["properties"]["dwell_ms"]["type"] == "byte"
    return name


def test_an_item_elasticsearch_refuses_is_reported_and_the_rest_is_stored(client, es, settings):
    now = datetime.now(UTC)
    yesterday = (now - timedelta(days=1)).isoformat()
    drifted_day(es, settings, (now - timedelta(days=1)).date())
    batch = [{"user_id": "ok-today", "product_id": "P0000001", "action": "view", "source": "feed",
              "dwell_ms": 1000},
             {"user_id": "refused", "product_id": "P0000001", "action": "view", "source": "feed",
              "dwell_ms": 1000, "ts": yesterday},
             {"user_id": "ok-yesterday", "product_id": "NO-SUCH-PRODUCT", "action": "click", "source": "feed",
              "ts": yesterday}]
    response = client.post("/events?refresh=wait_for", headers=KEY, json=batch)
    assert response.status_code == 207, response.get_json()  # some refused: multi-status
    body = response.get_json()
    assert body["accepted"] == 2 and body["unknown_products"] == 1
    assert [(r["index"], r["field"]) for r in body["rejected"]] == [(1, None)]
    message = body["rejected"][0]["message"]
    assert message.startswith("document_parsing_exception: ") and "[dwell_ms]" in message
    assert "(caused by illegal_argument_exception: Value [1000] is out of range for a byte)" in message
    # acknowledged = stored: exactly the accepted events are searchable, the refused one is not
    assert es.count(index=settings.events_alias)["count"] == body["accepted"]
    stored = es.search(index=settings.events_alias, query={"match_all": {}}, size=10)["hits"]["hits"]
    assert sorted(h["_source"]["user_id"] for h in stored) == ["ok-today", "ok-yesterday"]


def test_write_reports_only_the_users_whose_events_were_stored(es, settings):
    now = datetime.now(UTC)
    drifted_day(es, settings, (now - timedelta(days=1)).date())
    events = [Event("a", "P1", "view", "feed", now - timedelta(days=1), dwell_ms=500),  # refused
              Event("b", "P1", "view", "feed", now - timedelta(days=1)),
              Event("a", "P1", "view", "feed", now - timedelta(days=1), dwell_ms=700),  # refused
              Event("c", "P1", "view", "feed", now, dwell_ms=500)]
    report = event_store.write(es, settings, events, known={"P1"}, refresh="wait_for")
    assert report.accepted == 2 and [r["index"] for r in report.rejected] == [0, 2]
    assert report.users == {"b", "c"}  # a's profile has nothing new: it stays cached
    assert es.count(index=settings.events_alias)["count"] == report.accepted
