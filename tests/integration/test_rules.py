"""Merchandising rules on the real stack (sample index, real model, Elasticsearch): each kind, windows, matching,
explain, audits, bad rules over HTTP, and organic results untouched when no rule matches."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from search_api.brands import audit_runs, audits
from search_api.http.app import create_app
from search_api.retrieval.runtime import Runtime
from search_api.rules import store
from tests.serving import server_env

pytestmark = pytest.mark.integration
KEY = "rules-key"
AUTH = {"X-API-Key": KEY}


@pytest.fixture(scope="module")
def settings(sample_index, es):
    """The sample index with rules under a prefix of their own (the sample's searches stay as built)."""
    rules_prefix = f"test-rules-{uuid.uuid4().hex[:8]}"
    yield sample_index.settings.with_(api_key=KEY, rules_prefix=rules_prefix)
    es.indices.delete(index=f"{rules_prefix}-rules", ignore_unavailable=True)


@pytest.fixture(scope="module")
def app(settings, model, es):
    return create_app(runtime=Runtime(settings, embedder=model, es=es))


@pytest.fixture
def client(app, settings, es):
    """A client; every rule is deleted after the test."""
    yield app.test_client()
    for rule in store.listing(es, settings):
        store.delete(es, settings, rule["id"])
    app.extensions["storesearch"].rules.expire()


def search(client, q: str, **params) -> dict:
    answer = client.get("/search", query_string={"q": q, "size": 20, "explain": "true", **params})
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()


def ids(body: dict) -> list[str]:
    return [r["id"] for r in body["results"]]


def scored(body: dict) -> list[tuple[str, float]]:
    return [(r["id"], r["score"]) for r in body["results"]]


def put(client, rule_id: str, **rule) -> dict:
    answer = client.put(f"/rules/{rule_id}", json=rule, headers=AUTH)
    assert answer.status_code in (200, 201), answer.get_json()
    return answer.get_json()


def stranger(client, es, settings, q: str = "pillow") -> str:
    """An on-sale product outside the search's eligible set for `q` (a food jar for pillows)."""
    first = search(client, q, size=100)
    found = set(ids(first))
    for start in range(100, min(first["meta"]["total"], 900), 100):
        found |= set(ids(search(client, q, size=100, **{"from": start})))
    hits = es.search(index=settings.products_alias, size=50, query={"bool": {
        "filter": [{"term": {"status": "on_sale"}}], "must_not": [{"terms": {"id": sorted(found)}}]}},
        _source=["id"])["hits"]["hits"]
    return next(h["_source"]["id"] for h in hits if h["_source"]["id"] not in found)


def off_shelf(es, settings) -> str:
    hit = es.search(index=settings.products_alias, size=1, query={"term": {"status": "off_shelf"}})["hits"]["hits"]
    assert hit, "the sample has off-shelf products"
    return str(hit[0]["_id"])


def test_a_query_no_rule_matches_is_answered_exactly_as_without_rules(client, es, settings):
    before = search(client, "memory foam pillow")
    for i in range(30):  # rules for other queries, of every kind
        put(client, f"other-{i}", kind="hide", query=f"blanket {i}", products=[before["results"][0]["id"]])
    put(client, "pin-other", kind="pin", query="pillowcase", match="contains", position=1,
        products=[before["results"][3]["id"]])
    after = search(client, "memory foam pillow")
    assert scored(after) == scored(before) and after["meta"]["rules"] == []
    assert all("rule" not in r["explain"] for r in after["results"])


def test_pin_places_a_product_the_search_did_not_find(client, es, settings):
    before = search(client, "pillow")
    outsider = stranger(client, es, settings)
    put(client, "pin-jar", kind="pin", query="Pillows", position=3, products=[outsider])
    after = search(client, "pillow")
    assert ids(after)[2] == outsider and after["results"][2]["explain"]["rule"] == {"id": "pin-jar", "kind": "pin"}
    assert [i for i in ids(after) if i != outsider] == ids(before)[:19]  # the rest in order, shifted by one
    assert after["meta"]["rules"] == [{"id": "pin-jar", "kind": "pin"}]
    assert after["meta"]["total"] == before["meta"]["total"] + 1  # the eligible set gained it
    # the second page continues without repeating the pinned product
    page2 = search(client, "pillow", **{"from": 20})
    assert outsider not in ids(page2) and ids(page2)[0] == ids(before)[19]


def test_filtered_out_and_off_shelf_products_are_never_pinned_into_view(client, es, settings):
    before = search(client, "pillow")
    outsider, hidden = stranger(client, es, settings), off_shelf(es, settings)
    put(client, "pin-two", kind="pin", query="pillow", position=1, products=[hidden, outsider])
    after = search(client, "pillow")
    assert hidden not in ids(after) and ids(after)[1] == outsider  # position 2 holds; position 1 is not shown
    brand = before["results"][0]["brand"]
    filtered = search(client, "pillow", brand=brand)
    assert outsider not in ids(filtered) and all(r["brand"] == brand for r in filtered["results"])


def test_hide_removes_and_the_rest_keep_their_order(client):
    before = search(client, "枕头", size=30)
    gone = [ids(before)[0], ids(before)[4]]
    put(client, "recall", kind="hide", query="枕头", products=gone)
    after = search(client, "枕头", size=30)
    assert ids(after) == [i for i in ids(before) if i not in gone] + ids(after)[28:]
    assert len(ids(after)) == 30 and not set(gone) & set(ids(after))
    assert after["meta"]["total"] == before["meta"]["total"] - 2  # the eligible set lost them: no page shows them


def test_boost_and_bury_move_by_their_places(client):
    before = ids(search(client, "pillow", size=30))
    put(client, "lift", kind="boost", query="pillow", products=[before[15]], by=10)
    put(client, "sink", kind="bury", query="pillow", products=[before[0]], by=3, priority=1)
    after = search(client, "pillow", size=30)
    order = ids(after)
    assert order.index(before[0]) == 3, after["meta"]  # the bury (higher priority) first: 0 → 3
    assert order.index(before[15]) == 5  # then the boost: 15 → 5
    assert after["results"][5]["explain"]["rule"] == {"id": "lift", "kind": "boost"}
    assert [r["id"] for r in after["meta"]["rules"]] == ["sink", "lift"]
    # a price sort is the shopper's order: no moves (a hide still applies)
    assert ids(search(client, "pillow", sort="price_asc")) == ids(search(client, "pillow", sort="price_asc"))


def test_expired_and_future_rules_are_inert(client):
    before = search(client, "pillow")
    now = datetime.now(UTC)
    put(client, "old", kind="hide", query="pillow", products=ids(before)[:3],
        active_from=(now - timedelta(days=2)).isoformat(), active_to=(now - timedelta(days=1)).isoformat())
    put(client, "soon", kind="hide", query="pillow", products=ids(before)[:3],
        active_from=(now + timedelta(days=1)).isoformat())
    after = search(client, "pillow")
    assert scored(after) == scored(before) and after["meta"]["rules"] == []
    put(client, "running", kind="hide", query="pillow", products=ids(before)[:1],
        active_to=(now + timedelta(days=1)).isoformat())
    assert ids(search(client, "pillow"))[0] != ids(before)[0]


@pytest.mark.parametrize(("rule_query", "match", "fires", "quiet"), [
    ("pillow", "exact", ["Pillows", "the pillow"], ["memory foam pillow"]),
    ("foam pillow", "phrase", ["memory foam pillow", "Foam Pillows"], ["pillow foam"]),
    ("pillow memory", "contains", ["memory foam pillow"], ["memory foam"]),
    ("抱枕", "exact", ["抱枕"], ["孕妇抱枕"]),
    ("抱枕", "phrase", ["孕妇抱枕", "新款 抱枕"], ["枕头"]),
    ("头套装", "contains", ["枕头套装"], ["枕头"]),
])
def test_matching_through_the_search_path(client, rule_query, match, fires, quiet):
    hit = ids(search(client, fires[0]))[0]
    put(client, "m", kind="hide", query=rule_query, match=match, products=[hit])
    for q in fires:
        assert search(client, q)["meta"]["rules"] == [{"id": "m", "kind": "hide"}], q
    for q in quiet:
        assert search(client, q)["meta"]["rules"] == [], q


def test_audits_see_the_rules_in_effect(client, app, sample_index, es, settings):
    rt = app.extensions["storesearch"]
    outsider = stranger(client, es, settings, "抱枕")
    brand = es.get(index=settings.products_alias, id=outsider)["_source"]["brand"]
    spec = audit_runs.parse(rt, {"pairs": [{"brand": brand, "keyword": "抱枕"}], "top_k": 10})
    before = audits.run(rt, audits.new_run(spec)).cells[0]
    put(client, "campaign", kind="pin", query="抱枕", position=1, products=[outsider])
    after = audits.run(rt, audits.new_run(spec)).cells[0]
    assert after["best_rank"] == 1 and after["ids"][0] == outsider and outsider not in before["ids"], (after, outsider)
    assert after["rules"] == ["campaign"] and before["rules"] == []


def test_bad_rules_are_400s_naming_the_field(client, es, settings):
    product = ids(search(client, "pillow"))[0]
    base = {"kind": "pin", "query": "pillow", "position": 2, "products": [product]}
    cases = [({**base, "products": [product, "no-such-product"]}, "products[1]"),
             ({**base, "position": 101}, "position"),
             ({**base, "active_from": "2026-12-01T00:00:00Z", "active_to": "2026-11-01T00:00:00Z"}, "active_to"),
             ({**base, "active_to": "tomorrow"}, "active_to"),
             ({**base, "kind": "shout"}, "kind")]
    for body, field in cases:
        answer = client.put("/rules/bad", json=body, headers=AUTH)
        assert answer.status_code == 400 and answer.get_json()["error"]["field"] == field, (body, answer.get_json())
    switch = (datetime.now(UTC) + timedelta(days=10)).isoformat()
    put(client, "first", **{**base, "active_to": switch})
    clash = client.put("/rules/second", json={**base, "query": "Pillows", "position": 1,
                                               "products": [ids(search(client, "pillow"))[5], product]},
                       headers=AUTH)
    assert clash.status_code == 400 and clash.get_json()["error"]["field"] == "position"
    later = {**base, "active_from": switch}
    assert client.put("/rules/second", json=later, headers=AUTH).status_code == 201  # one ends as the other starts
    assert client.put("/rules/first", json={**base, "active_to": switch, "priority": 3},
                      headers=AUTH).status_code == 200  # replacing itself is no clash
    assert client.put("/rules/a%20b", json=base, headers=AUTH).get_json()["error"]["field"] == "rule_id"


def test_rule_endpoints_need_the_rules_scope(client):
    assert client.get("/rules").status_code == 401
    assert client.get("/rules", headers={"X-API-Key": "wrong"}).status_code == 401
    assert client.get("/rules/nope", headers=AUTH).status_code == 404
    assert client.delete("/rules/nope", headers=AUTH).status_code == 404
    put(client, "listed", kind="hide", query="pillow", products=[ids(search(client, "pillow"))[0]])
    listed = client.get("/rules", headers=AUTH).get_json()["rules"]
    assert [r["id"] for r in listed] == ["listed"] and listed[0]["query"] == "pillow"
    assert client.get("/rules/listed", headers=AUTH).get_json()["kind"] == "hide"
    assert client.delete("/rules/listed", headers=AUTH).get_json() == {"id": "listed", "deleted": True}


def cli(settings, *args: str) -> subprocess.CompletedProcess:
    env = server_env(settings, STORESEARCH_RULES_PREFIX=settings.rules_prefix)
    return subprocess.run([sys.executable, "-m", "search_api.cli", "rules", *args], env=env, capture_output=True,
                          text=True, timeout=120)


def test_the_cli_puts_lists_and_deletes_rules_and_refuses_bad_ones_in_one_line(client, settings, tmp_path):
    product = ids(search(client, "pillow"))[0]
    good = tmp_path / "rules.json"
    good.write_text(json.dumps([{"id": "cli-hide", "kind": "hide", "query": "pillow", "products": [product]},
                                {"id": "cli-pin", "kind": "pin", "query": "枕头", "position": 1, "products": [product]}]))
    done = cli(settings, "put", str(good))
    assert done.returncode == 0 and done.stdout.splitlines() == ["created rule cli-hide", "created rule cli-pin"]
    listed = cli(settings, "list").stdout.splitlines()
    assert [line.split("\t")[:2] for line in listed] == [["cli-hide", "hide"], ["cli-pin", "pin"]]
    app_rules = client.application.extensions["storesearch"].rules
    app_rules.expire()
    assert product not in ids(search(client, "pillow"))
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"id": "cli-bad", "kind": "boost", "query": "pillow", "products": ["nope"]}))
    for args in (("put", str(bad)), ("put", str(tmp_path / "missing.json")), ("delete", "no-such-rule")):
        refused = cli(settings, *args)
        assert refused.returncode != 0 and refused.stdout == "" and len(refused.stderr.splitlines()) == 1, refused
    assert "rule cli-bad: products[0]" in cli(settings, "put", str(bad)).stderr
    assert cli(settings, "delete", "cli-hide").returncode == 0
    assert [line.split("\t")[0] for line in cli(settings, "list").stdout.splitlines()] == ["cli-pin"]
