"""Relevance on the sample catalog through the real search path (ES + FAISS + model)."""

from __future__ import annotations

import pytest

from search_api.retrieval import hybrid
from search_api.retrieval.params import parse_search
from search_api.retrieval.runtime import Runtime

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def rt(sample_index, model, es):
    return Runtime(sample_index.settings, embedder=model, es=es)


def _search(rt, **args):
    return hybrid.search(rt, parse_search(args))


def test_chinese_query_finds_its_category_and_skips_blind_semantics(rt):
    out = _search(rt, q="抱枕", size=10)
    assert out["meta"]["legs"]["semantic"] == "skipped: model does not cover zh"
    assert out["meta"]["legs"]["keyword"] == "ok" and not out["meta"]["degraded"]
    leaves = [r["category"][-1] for r in out["results"]]
    assert len(leaves) == 10 and leaves.count("抱枕") >= 8, leaves


def test_a_chinese_unigram_match_must_keep_the_query_head(rt):
    # 护颈枕 (neck pillow) shares 护 with 护肤 (skin care) but not its head 肤: before the head
    # rule, "护肤" returned only neck pillows
    results = _search(rt, q="护肤", size=20)["results"]
    assert results and all(r["category"][1] == "护肤" for r in results), [r["title"] for r in results]


def test_a_nominal_suffix_is_not_the_head(rt):
    # 枕头 = 枕 + suffix 头: every kind of pillow (孕妇枕, U型枕 …) still matches through 枕
    leaves = {r["category"][-1] for r in _search(rt, q="枕头", mode="keyword", size=100)["results"]}
    assert {"枕头", "孕妇枕", "U型枕"} <= leaves, leaves


def test_english_query_uses_both_legs_and_ranks_matching_attributes_first(rt):
    out = _search(rt, q="memory foam pillow", size=10, explain="true")
    assert out["meta"]["legs"] == {"semantic": "ok", "keyword": "ok"}
    titles = [r["title_en"].lower() for r in out["results"]]
    assert all("memory foam" in t and "pillow" in t for t in titles), titles
    assert all(r["explain"]["keyword"] and r["explain"]["semantic"] for r in out["results"][:5])


@pytest.mark.parametrize(("query", "leaf"), [
    ("蓝牙耳机 降噪", "蓝牙耳机"), ("bluetooth earbuds", "蓝牙耳机"), ("孕妇枕", "孕妇枕"),
    ("car neck pillow", "汽车头枕"), ("face cream", "面霜"), ("牛肉干", "肉干"),
])
def test_queries_rank_their_category_above_unrelated_ones(rt, query, leaf):
    results = _search(rt, q=query, size=10)["results"]
    assert sum(r["category"][-1] == leaf for r in results[:5]) >= 4, [r["title"] for r in results]


def test_semantic_leg_reads_meaning_not_words(rt):
    # no sample title says "earphones for running"; the model still lands in audio products
    results = _search(rt, q="earphones for running", mode="semantic", size=5)["results"]
    assert all(r["category"][1] == "耳机" for r in results), [r["title_en"] for r in results]


def test_brand_and_price_filters_apply_to_every_leg(rt):
    base = _search(rt, q="pillow", size=50)["results"]
    brand = base[3]["brand"]
    filtered = _search(rt, q="pillow", brand=brand, price_max=200, size=50)["results"]
    assert filtered and all(r["brand"] == brand and r["price"] <= 200 for r in filtered)
    assert {r["id"] for r in filtered} <= {r["id"] for r in _search(rt, q="pillow", brand=brand, size=100)["results"]}


def test_hidden_products_never_surface(rt, sample_index, es):
    hidden = es.search(index=sample_index.settings.products_alias, size=20, _source=["title_en"],
                       query={"term": {"status": "off_shelf"}})["hits"]["hits"]
    assert hidden
    for hit in hidden[:5]:
        ids = {r["id"] for r in _search(rt, q=hit["_source"]["title_en"], size=50)["results"]}
        assert hit["_id"] not in ids


def test_sort_by_price_orders_the_same_relevant_set(rt):
    relevance = _search(rt, q="抱枕", size=100)
    cheap = _search(rt, q="抱枕", size=100, sort="price_asc")
    prices = [r["price"] for r in cheap["results"]]
    assert prices == sorted(prices)
    assert cheap["meta"]["total"] == relevance["meta"]["total"]
    assert all(r["category"][-1] in ("抱枕", "汽车头枕", "枕头", "孕妇枕", "U型枕") for r in cheap["results"][:20])


def test_pagination_is_stable(rt):
    whole = [r["id"] for r in _search(rt, q="pillow", size=20)["results"]]
    parts = [r["id"] for r in _search(rt, q="pillow", size=10)["results"]]
    parts += [r["id"] for r in _search(rt, **{"q": "pillow", "size": 10, "from": 10})["results"]]
    assert parts == whole
