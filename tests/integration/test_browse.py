"""Facets, filters, sorts and paging against a brute-force eligible set, on the real stack.

The brute force takes the legs' own candidates (the keyword leg run for every status at a depth
of 10,000, the semantic leg's candidates above the floor), reads every candidate's document and
filters and counts in Python: it shares no query, aggregation or filter clause with `paging`.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest

from indexer.build.changes import upsert
from indexer.build.pipeline import BuildOptions, build
from indexer.sample import generate
from search_api.retrieval import hybrid, keyword, semantic
from search_api.retrieval.facets import price_bands
from search_api.retrieval.params import SearchRequest, Status, parse_search
from search_api.retrieval.runtime import Runtime

pytestmark = pytest.mark.integration

Q = "pillow"
FIELDS = ["brand", "category", "color", "price", "rating", "status", "shop"]


@pytest.fixture(scope="module")
def rt(sample_index, model, es):
    return Runtime(sample_index.settings, embedder=model, es=es)


@pytest.fixture(scope="module")
def pool(rt) -> dict[str, dict[str, Any]]:
    """Id → document of every product eligible for Q before filters, whatever its status."""
    live = rt.replica.current()
    settings = rt.settings
    every_status = SearchRequest(q=Q, statuses=tuple(Status))
    kw = keyword.search(rt.es, live.index, every_status, size=10_000, relax_below=settings.relax_below,
                        typos=settings.typo_tolerance)
    sem, _ = semantic.search(live.vectors, rt.embedder.embed_query(Q), size=settings.semantic_candidates,
                             floor=settings.semantic_floor)
    ids = sorted(set(kw.ids) | set(sem.ids))
    docs = rt.es.mget(index=live.index, ids=ids, _source=FIELDS)["docs"]
    return {d["_id"]: d["_source"] for d in docs if d["_source"].get("status") != "deleted"}


def shown(doc: dict[str, Any], statuses=("on_sale",), **want: Any) -> bool:
    """Whether a document passes the filters `want` (brand, color, category path, band, rating_min)."""
    if (doc.get("status") or "on_sale") not in statuses:
        return False
    if "brand" in want and doc.get("brand") != want["brand"]:
        return False
    if "color" in want and doc.get("color") != want["color"]:
        return False
    if "path" in want and " > ".join(doc.get("category") or [])[:len(want["path"])] != want["path"]:
        return False
    if "band" in want:
        low, high = want["band"]
        if doc.get("price") is None or not (low <= doc["price"] and (high is None or doc["price"] < high)):
            return False
    return "rating_min" not in want or (doc.get("rating") or 0) >= want["rating_min"]


def assert_top(values: list[dict[str, Any]], counts: Counter) -> None:
    """A terms facet: every value's count right, and the values shown the most frequent ones."""
    assert values and all(counts[v["value"]] == v["count"] for v in values)
    left_out = [n for value, n in counts.items() if value not in {v["value"] for v in values}]
    assert min(v["count"] for v in values) >= max(left_out, default=0)
    assert len(values) == min(len(counts), 20)


def search(rt, **args) -> dict[str, Any]:
    return hybrid.search(rt, parse_search({"q": Q, **args}))


def test_facet_counts_equal_a_brute_force_count_over_the_eligible_set(rt, pool):
    out = search(rt, size=1, facets="all")
    visible = [d for d in pool.values() if shown(d)]
    assert out["meta"]["total"] == len(visible) > 100
    brands = Counter(d["brand"] for d in visible)
    assert_top(out["facets"]["brand"], brands)
    assert_top(out["facets"]["color"], Counter(d["color"] for d in visible if d.get("color")))
    roots = Counter(d["category"][0] for d in visible)
    assert {n["value"]: n["count"] for n in out["facets"]["category"]} == roots
    bands = {f"{lo:g}-{'' if hi is None else f'{hi:g}'}": sum(shown(d, band=(lo, hi)) for d in visible)
             for lo, hi in price_bands(rt.settings.facet_price_bands)}
    assert {f["value"]: f["count"] for f in out["facets"]["price"]} == bands
    assert {f["value"]: f["count"] for f in out["facets"]["rating"]} == {
        f"{r:g}": sum((d.get("rating") or 0) >= r for d in visible) for r in rt.settings.facet_ratings}
    stock = Counter(d.get("status") or "on_sale" for d in pool.values())
    assert {f["value"]: f["count"] for f in out["facets"]["in_stock"]} == {True: stock["on_sale"],
                                                                         False: stock["sold_out"]}


def test_facets_are_disjunctive_within_a_facet_and_conjunctive_across(rt, pool):
    color = search(rt, size=1, facets="color")["facets"]["color"][0]["value"]
    b1, b2 = (f["value"] for f in search(rt, size=1, facets="brand", color=color)["facets"]["brand"][:2])
    out = search(rt, size=1, facets="brand,color", brand=[b1, b2], color=color)
    # the brand facet ignores the brand selection but applies the colour one, and vice versa
    expect_brands = Counter(d["brand"] for d in pool.values() if shown(d, color=color))
    assert_top(out["facets"]["brand"], expect_brands)
    expect_colors = Counter(d["color"] for d in pool.values() if shown(d) and d["brand"] in (b1, b2) and d.get("color"))
    assert_top(out["facets"]["color"], expect_colors)
    assert out["meta"]["total"] == expect_brands[b1] + expect_brands[b2]


@pytest.mark.parametrize("facet", ["brand", "category", "price", "color", "rating", "in_stock"])
def test_filtering_by_a_facet_value_gives_exactly_its_count(rt, facet):
    values = search(rt, size=1, facets=facet)["facets"][facet]
    param = {"category": "category", "price": "price", "rating": "rating_min"}.get(facet, facet)
    for value in values[:4]:
        chosen = value["path"] if facet == "category" else value["value"]
        chosen = str(chosen).lower() if facet == "in_stock" else chosen
        assert search(rt, size=1, **{param: chosen})["meta"]["total"] == value["count"], (facet, value)


def test_sold_out_and_off_shelf_products_show_only_when_asked(rt, pool):
    assert {r.get("status") for r in search(rt, size=100)["results"]} == {"on_sale"}
    sold = search(rt, size=100, in_stock="false")
    assert sold["results"] and {r["status"] for r in sold["results"]} == {"sold_out"}
    off = search(rt, size=100, status="off_shelf")
    assert off["meta"]["total"] == sum(d.get("status") == "off_shelf" for d in pool.values())


def test_unknown_filter_values_give_an_empty_answer(rt):
    for args in ({"brand": "no such brand"}, {"color": "ultraviolet"}, {"shop": "nowhere"}, {"category": "a > b"},
                 {"price": "7-7"}):
        out = search(rt, facets="brand", **args)
        assert out["results"] == [] and out["meta"]["total"] == 0, args


def test_fifty_pages_neither_repeat_nor_skip(rt, pool):
    visible = {i for i, d in pool.items() if shown(d)}
    size = 5
    ids = [r["id"] for p in range(50) for r in search(rt, size=size, **{"from": p * size})["results"]]
    assert len(ids) == len(set(ids)) == min(len(visible), 50 * size)
    assert set(ids) <= visible
    whole = [r["id"] for p in range(3) for r in search(rt, size=100, **{"from": p * 100})["results"]]
    assert whole[:len(ids)] == ids  # the order does not depend on the page size either


def test_a_sort_orders_the_whole_eligible_set_not_only_the_fused_candidates(rt, pool):
    fused = {r["id"] for r in search(rt, size=100)["results"]}  # the first 100 in relevance order
    cheapest = sorted(d["price"] for d in pool.values() if shown(d))
    pages = [r for p in range(3) for r in search(rt, size=50, sort="price_asc", **{"from": p * 50})["results"]]
    assert [r["price"] for r in pages] == cheapest[:150]
    assert len({r["id"] for r in pages}) == 150
    assert {r["id"] for r in pages[:20]} - fused, "the cheapest products all sat among the first 100 anyway"
    newest = search(rt, size=20, sort="newest", brand=pages[0]["brand"])["results"]
    assert [r["updated_at"] for r in newest] == sorted((r["updated_at"] for r in newest), reverse=True)


def test_pages_hold_while_an_upsert_lands(isolated, es, model, tmp_path):
    """50 one-product pages; halfway, an upsert rewrites a product already shown and adds an unrelated one."""
    paths = generate.write(tmp_path / "catalog", 600, seed=5)
    build(isolated, es, model, BuildOptions(products=(paths["products"],), progress=False))
    rt = Runtime(isolated, embedder=model, es=es)

    def page(n: int) -> list[str]:
        return [r["id"] for r in hybrid.search(rt, parse_search({"q": Q, "size": 1, "from": n}))["results"]]

    listing = [r["id"] for r in hybrid.search(rt, parse_search({"q": Q, "size": 100}))["results"]]
    assert len(listing) > 50
    ids = [i for n in range(25) for i in page(n)]
    rows = {row["id"]: row for row in map(json.loads, paths["products"].read_text(encoding="utf-8").splitlines())}
    changes = tmp_path / "changes.jsonl"
    changes.write_text(json.dumps(rows[ids[3]], ensure_ascii=False) + "\n" + json.dumps(
        {"id": "new-1", "title": "carrot cake tin", "price": 9.9}) + "\n", encoding="utf-8")
    assert upsert(isolated, es, model, [changes]).written == 2
    ids += [i for n in range(25, 50) for i in page(n)]
    assert ids == listing[:50]
