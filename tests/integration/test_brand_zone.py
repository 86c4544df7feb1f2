"""Brand zones on the sample catalog: who owns 抱枕, windows, conflicts, organic results untouched."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from indexer.build.pipeline import BuildOptions, build
from search_api.brands.brand_zone import match_quality, matching_keywords
from search_api.http.app import create_app
from search_api.retrieval import hybrid
from search_api.retrieval.params import parse_search
from search_api.retrieval.runtime import Runtime

pytestmark = pytest.mark.integration


def _owner(sample_index, keyword):
    for line in sample_index.brand_keywords.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        if row["keyword"] == keyword:
            return row
    raise AssertionError(f"no owner of {keyword}")


@pytest.fixture(scope="module")
def client(sample_index, model, es):
    return create_app(runtime=Runtime(sample_index.settings, embedder=model, es=es)).test_client()


def test_the_brand_that_owns_the_keyword_gets_the_zone(client, sample_index, model, es):
    owner = _owner(sample_index, "抱枕")
    body = client.get("/search?q=新款抱枕&size=10").get_json()
    zone = body["brand_zone"]
    assert zone["brand"] == owner["brand"] and zone["keyword"] == "抱枕" and zone["match"] in ("phrase", "contains")
    assert zone["products"] and all(p["brand"] == owner["brand"] for p in zone["products"])
    assert all("抱枕" in p["category"] for p in zone["products"])  # its landing category
    # organic results are exactly what the search path returns without any zone
    plain = hybrid.search(Runtime(sample_index.settings, embedder=model, es=es), parse_search({"q": "新款抱枕", "size": "10"}))
    assert [r["id"] for r in body["results"]] == [r["id"] for r in plain["results"]]
    # a longer keyword owned by another brand wins on match quality: 孕妇抱枕 is exact for its owner
    assert client.get("/search?q=孕妇抱枕").get_json()["brand_zone"]["keyword"] == "孕妇抱枕"


def test_an_expired_keyword_gives_no_zone(client, sample_index):
    owner = _owner(sample_index, "靠枕")
    assert owner["active_to"] < datetime.now(UTC).isoformat()
    body = client.get("/search?q=靠枕").get_json()
    assert body["brand_zone"] is None or body["brand_zone"]["keyword"] != "靠枕"
    assert body["results"]  # organic search unaffected


def test_brand_name_is_exact_and_english_alias_works(client, sample_index):
    owner = _owner(sample_index, "抱枕")
    brand = next(json.loads(x) for x in sample_index.brand_keywords.read_text(encoding="utf-8").splitlines()
                 if json.loads(x)["keyword"] == owner["brand"])
    zone = client.get(f"/search?q={brand['aliases'][0]}").get_json()["brand_zone"]
    assert zone["brand"] == owner["brand"] and zone["match"] == "exact"
    # the brand name inside a longer query is not an exact hit: the brand-name keyword requires exact
    zone = client.get(f"/search?q={owner['brand']} 手机壳 特价").get_json()["brand_zone"]
    assert zone is None or zone["keyword"] != owner["brand"]
    assert client.get("/search?q=pillow&from=10").get_json()["brand_zone"] is None  # first page only


def test_match_kinds():
    assert match_quality("抱枕", "抱枕") == "exact"
    assert match_quality("孕妇抱枕", "抱枕") in ("phrase", "contains")
    assert match_quality("memory foam pillow", "pillow") == "phrase"
    assert match_quality("pillow memory foam", "foam pillow") == "contains"
    assert match_quality("pillowcase", "pillow") is None


def test_conflicts_resolve_by_priority_then_match_quality(es, isolated, model, tmp_path):
    products = tmp_path / "p.jsonl"
    products.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in [
        {"id": "a1", "title": "记忆棉抱枕", "brand": "甲"}, {"id": "b1", "title": "乳胶抱枕", "brand": "乙"},
        {"id": "c1", "title": "孕妇抱枕", "brand": "丙"}]), encoding="utf-8")
    keywords = tmp_path / "k.jsonl"
    keywords.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in [
        {"keyword": "抱枕", "brand": "甲", "brand_id": "A", "priority": 5, "match": "contains"},
        {"keyword": "抱枕", "brand": "乙", "brand_id": "B", "priority": 5, "match": "contains"},
        {"keyword": "孕妇抱枕", "brand": "丙", "brand_id": "C", "priority": 5, "match": "exact"},
        {"keyword": "乳胶", "brand": "乙", "brand_id": "B", "priority": 9, "match": "contains"}]),
        encoding="utf-8")
    build(isolated, es, model, BuildOptions(products=(products,), brand_keywords=(keywords,), progress=False))
    alias = isolated.brand_keywords_alias
    # same priority and kind: the longer keyword (孕妇抱枕 exact beats 抱枕 contains)
    assert [h.brand for h in matching_keywords(es, alias, "孕妇抱枕")][:1] == ["丙"]
    # equal on everything but the brand: brand id decides, every time
    assert [h.brand for h in matching_keywords(es, alias, "记忆棉抱枕")] == ["甲", "乙"]
    # a higher priority wins over a better match
    assert matching_keywords(es, alias, "乳胶抱枕")[0].keyword == "乳胶"
    client = create_app(runtime=Runtime(isolated, embedder=model, es=es)).test_client()
    zone = client.get("/search?q=乳胶抱枕&explain=true").get_json()["brand_zone"]
    assert zone["brand"] == "乙" and [p["id"] for p in zone["products"]] == ["b1"]
    assert {c["brand"] for c in zone["conflicts"]} == {"甲", "乙"}


def test_landing_products_come_first_in_the_zone_when_on_shelf(es, isolated, model, tmp_path):
    products = tmp_path / "p.jsonl"
    products.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in [
        {"id": "a1", "title": "记忆棉抱枕 抱枕 抱枕", "brand": "甲"}, {"id": "a2", "title": "乳胶抱枕 抱枕", "brand": "甲"},
        {"id": "a3", "title": "甲 毛毯", "brand": "甲"},  # no 抱枕: the search alone never finds it
        {"id": "a4", "title": "甲 抱枕 下架", "brand": "甲", "status": "off_shelf"},
        {"id": "b1", "title": "乳胶抱枕", "brand": "乙"}]), encoding="utf-8")
    keywords = tmp_path / "k.jsonl"
    keywords.write_text(json.dumps({"keyword": "抱枕", "brand": "甲", "match": "contains",
                                    "landing": {"products": ["a4", "a3", "a2"]}}, ensure_ascii=False) + "\n",
                        encoding="utf-8")
    build(isolated, es, model, BuildOptions(products=(products,), brand_keywords=(keywords,), progress=False))
    client = create_app(runtime=Runtime(isolated, embedder=model, es=es)).test_client()
    body = client.get("/search?q=抱枕").get_json()
    zone = [p["id"] for p in body["brand_zone"]["products"]]
    assert zone[:2] == ["a3", "a2"] and zone[2:] == ["a1"]  # landing (the off-shelf a4 never), then the search's
    assert "a3" not in [r["id"] for r in body["results"]]  # organic results untouched
