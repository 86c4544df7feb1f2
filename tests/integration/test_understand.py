"""Query understanding on the real stack: the sample build, real Elasticsearch, the Flask app."""

from __future__ import annotations

import json
from typing import Any

import pytest

from search_api.http.app import create_app
from search_api.http.schemas import SearchAnswer
from search_api.retrieval import hybrid
from search_api.retrieval.params import parse_search
from search_api.retrieval.runtime import Runtime

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def rt(sample_index, model, es):
    return Runtime(sample_index.settings, embedder=model, es=es)


def _results(rt: Runtime, q: str, understand: bool, size: int = 10) -> list[dict[str, Any]]:
    """The keyword leg's answer, each result with its attributes (not among the displayed fields)."""
    req = parse_search({"q": q, "mode": "keyword", "size": str(size), "understand": str(understand).lower()})
    results = hybrid.search(rt, req)["results"]
    if results:
        docs = rt.es.mget(index=rt.settings.products_alias, ids=[r["id"] for r in results], _source=["attributes"])
        attributes = {d["_id"]: d["_source"].get("attributes") or {} for d in docs["docs"]}
        results = [{**r, "attributes": attributes[r["id"]]} for r in results]
    return results


def _share(results: list[dict[str, Any]], has: Any) -> float:
    return sum(1 for r in results if has(r)) / max(len(results), 1)


def _attr(name: str, value: str) -> Any:
    return lambda r: (r.get("attributes") or {}).get(name) == value


@pytest.mark.parametrize(("q", "has"), [
    ("black dress", _attr("颜色", "黑色")), ("黑连衣裙", _attr("颜色", "黑色")),  # colour only in attributes
    ("hoodie extra large", _attr("尺码", "XL")), ("卫衣 加大码", _attr("尺码", "XL")),
    ("women 服饰", lambda r: "女装" in r["category"]), ("女款 服饰", lambda r: "女装" in r["category"]),
    ("baby pillow", lambda r: "母婴" in r["category"]), ("婴儿 抱枕", lambda r: "母婴" in r["category"]),
])
def test_a_recognised_part_lifts_the_products_that_have_it(rt, q, has):
    off, on = _results(rt, q, False, size=100), _results(rt, q, True, size=100)
    assert on and (_lift(on, has) > _lift(off, has) or _share(on[:10], has) == 1.0), q


def _lift(results: list[dict[str, Any]], has: Any) -> float:
    """How high the products that have it rank: the sum of their reciprocal ranks."""
    return sum(1 / rank for rank, r in enumerate(results, 1) if has(r))


@pytest.mark.parametrize(("q", "limit"), [("hoodie under 100", 100), ("卫衣 100元以内", 100), ("卫衣 150元以下", 150)])
def test_a_price_expression_prefers_that_range_without_filtering(rt, q, limit):
    words = "hoodie" if q.startswith("hoodie") else "卫衣"
    plain, on = _results(rt, words, False), _results(rt, q, True, size=100)
    within = _share(on[:10], lambda r: r["price"] <= limit)
    assert within > _share(plain, lambda r: r["price"] <= limit) and on[0]["price"] <= limit
    assert any(r["price"] > limit for r in on)  # a preference, not a filter


@pytest.mark.parametrize(("q", "words"), [("cheap hoodie", "hoodie"), ("便宜 卫衣", "卫衣")])
def test_cheap_lowers_the_prices_at_the_top(rt, q, words):
    def mean(rs: list[dict[str, Any]]) -> float:
        return sum(r["price"] for r in rs) / len(rs)
    assert mean(_results(rt, q, True)) < mean(_results(rt, words, False))


def test_a_brand_and_its_alias_lift_the_brands_products(rt, sample_index):
    first = json.loads(sample_index.brand_keywords.read_text(encoding="utf-8").splitlines()[0])
    brand, alias = first["brand"], first["aliases"][0]
    for q in (f"{alias} pillow", f"{brand} 抱枕"):
        on, off = _results(rt, q, True), _results(rt, q, False)
        assert _share(on, lambda r: r["brand"] == brand) >= _share(off, lambda r: r["brand"] == brand)
        assert on[0]["brand"] == brand


def test_meta_and_explain_show_what_was_recognised(rt):
    client = create_app(runtime=rt).test_client()
    body = client.get("/search", query_string={"q": "black dress under 300", "explain": "true",
                                               "mode": "keyword"}).get_json()
    SearchAnswer.model_validate(body)
    assert body["meta"]["understood"] == [{"kind": "color", "text": "black", "value": "black"},
                                          {"kind": "price", "text": "under 300", "value": "<=300"}]
    top = body["results"][0]
    assert top["color"] == "黑色" and top["price"] <= 300
    assert {"kind": "color", "text": "black", "value": "black"} in top["explain"]["understood"]
    off = client.get("/search", query_string={"q": "black dress", "understand": "false"}).get_json()
    assert off["meta"]["understood"] == [] and "understood" not in (off["results"][0].get("explain") or {})
    plain = client.get("/search", query_string={"q": "throw pillow", "explain": "true"}).get_json()
    assert plain["meta"]["understood"] == [] and "understood" not in plain["results"][0]["explain"]


def test_boosts_reorder_the_matches_never_change_them(rt):
    def answer(q: str, understand: str) -> dict[str, Any]:
        return hybrid.search(rt, parse_search({"q": q, "mode": "keyword", "size": "100", "understand": understand}))
    for q in ("black dress", "女款 服饰", "silk bedding set"):
        on, off = answer(q, "true"), answer(q, "false")
        assert on["meta"]["understood"] and on["meta"]["total"] == off["meta"]["total"]  # none added, none lost
        assert on["results"] != off["results"]
    plain_on, plain_off = answer("throw pillow", "true"), answer("throw pillow", "false")
    assert plain_on["meta"]["understood"] == [] and plain_on["results"] == plain_off["results"]


@pytest.mark.parametrize(("q", "rest", "excluded"), [
    ("airplane pillow without fiber", "airplane pillow", "fiber"), ("抱枕不含亚麻", "抱枕", "亚麻"),
])
def test_an_exclusion_is_not_searched_and_ranks_the_titles_naming_it_lower(rt, q, rest, excluded):
    def answer(text: str, mode: str = "keyword", understand: str = "true") -> dict[str, Any]:
        return hybrid.search(rt, parse_search({"q": text, "mode": mode, "size": "100", "understand": understand}))

    def names(r: dict[str, Any]) -> bool:
        return excluded in f"{r['title']} {r.get('title_en') or ''}".lower()

    with_it, without_it = answer(q), answer(rest)
    assert with_it["meta"]["understood"] == [{"kind": "exclude", "text": q[len(rest):].strip(), "value": excluded}]
    assert with_it["meta"]["total"] == without_it["meta"]["total"]  # demoted, never dropped
    ranks = [{r["id"]: i for i, r in enumerate(a["results"]) if names(r)} for a in (with_it, without_it)]
    assert ranks[1]
    lower = [ranks[0].get(i, len(with_it["results"])) for i in ranks[1]]  # out of the first 100: lower still
    assert all(a >= b for a, b in zip(lower, ranks[1].values(), strict=True)) and sum(lower) > sum(ranks[1].values())
    others = [[r["id"] for r in a["results"] if not names(r)] for a in (with_it, without_it)]
    both = set(others[0]) & set(others[1])
    assert [i for i in others[0] if i in both] == [i for i in others[1] if i in both]  # the rest keep their order
    hybrid_with, hybrid_without = answer(q, "hybrid"), answer(rest, "hybrid")
    assert hybrid_with["meta"]["legs"] == hybrid_without["meta"]["legs"] and hybrid_with["results"]
    off = answer(q, "hybrid", "false")
    assert [r["id"] for r in off["results"]] != [r["id"] for r in hybrid_with["results"]]
