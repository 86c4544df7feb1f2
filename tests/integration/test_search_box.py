"""The search box's forgiving side on the real stack: pinyin, typos, relaxation, honest no-match answers."""

from __future__ import annotations

from typing import Any

import pytest

from search_api.retrieval import hybrid, keyword
from search_api.retrieval.params import parse_search
from search_api.retrieval.runtime import Runtime

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def runtime(sample_index, model, es) -> Runtime:
    return Runtime(sample_index.settings, embedder=model, es=es)


def search(rt: Runtime, **params: Any) -> dict[str, Any]:
    return hybrid.search(rt, parse_search({"size": 10, **params}))


def leaf(item: dict[str, Any]) -> str:
    return item["category"][-1]


@pytest.mark.parametrize("q", ["baozhen", "bao zhen", "BaoZhen"])
def test_pinyin_finds_the_chinese_products(runtime, q):
    out = search(runtime, q=q, mode="keyword")
    assert out["results"] and all(leaf(r) == "抱枕" for r in out["results"]), [r["title"] for r in out["results"]]
    assert out["meta"]["relaxed"] is None


def test_a_misspelled_query_is_corrected_and_finds_what_the_clean_one_finds(runtime):
    clean = search(runtime, q="memory foam pillow")
    typo = search(runtime, q="memroy foam pilow")
    assert typo["meta"]["corrected"] == "memory foam pillow" and clean["meta"]["corrected"] is None
    clean_ids, typo_ids = [r["id"] for r in clean["results"]], [r["id"] for r in typo["results"]]
    assert len(set(clean_ids) & set(typo_ids)) >= 8, (clean_ids, typo_ids)


def test_a_short_word_or_a_four_letter_word_with_a_wrong_first_letter_is_not_corrected(runtime):
    # ≤ 3 letters: no edit allowed; 4 letters: the first letter must be right; longer: any letter
    assert search(runtime, q="pilow", mode="keyword")["meta"]["corrected"] == "pillow"
    assert search(runtime, q="xillow", mode="keyword")["meta"]["corrected"] == "pillow"
    assert search(runtime, q="tea", mode="keyword")["meta"]["corrected"] is None
    assert search(runtime, q="sofz", mode="keyword")["meta"]["corrected"] == "sofa"
    assert search(runtime, q="xofa", mode="keyword")["meta"]["corrected"] is None


def test_a_correctly_spelled_query_ranks_exactly_as_without_typo_tolerance(runtime, sample_index, model, es):
    off = Runtime(sample_index.settings.with_(typo_tolerance=False), embedder=model, es=es)
    for q in ("memory foam pillow", "抱枕", "cotton throw pillow", "dog food"):
        on_ids = [(r["id"], r["score"]) for r in search(runtime, q=q, size=30)["results"]]
        off_ids = [(r["id"], r["score"]) for r in search(off, q=q, size=30)["results"]]
        assert on_ids == off_ids, q


def test_a_correction_that_does_not_fit_the_rest_of_the_query_is_dropped(runtime):
    # "cake" is one edit from "case" (phone cases), but no product holds carrot with case
    out = search(runtime, q="carrot cake", mode="keyword")
    assert out["meta"]["corrected"] is None


@pytest.mark.parametrize("q", ["carrot cake", "汽车轮胎", "laptop", "guitar strings", "笔记本电脑"])
def test_goods_the_catalog_does_not_sell_are_answered_empty_or_flagged(runtime, q):
    out = search(runtime, q=q)
    assert not out["results"] or out["meta"]["relaxed"] in ("most_terms", "any_term", "semantic"), out["meta"]


def test_a_strict_match_is_not_flagged_and_relaxed_hits_say_so(runtime):
    strict = search(runtime, q="cervical pillow", mode="keyword")
    assert strict["results"] and strict["meta"]["relaxed"] is None
    # no product is a pillow *and* a rice cooker: the keyword leg relaxes to any term
    mixed = search(runtime, q="pillow rice cooker", mode="keyword")
    assert mixed["results"] and mixed["meta"]["relaxed"] in ("most_terms", "any_term")


def test_relaxation_keeps_the_strict_set_when_it_is_large_enough(runtime, sample_index, model, es):
    strict_only = Runtime(sample_index.settings.with_(relax_below=1), embedder=model, es=es)
    out = search(strict_only, q="pillow rice cooker", mode="keyword")
    assert out["results"] == [] or out["meta"]["relaxed"] is not None
    one = search(strict_only, q="cervical pillow", mode="keyword", size=50)
    assert one["results"] and all("cervical" in r["title_en"].lower() or leaf(r) == "枕头" for r in one["results"])


def test_the_semantic_floor_drops_unrelated_neighbours(runtime):
    out = search(runtime, q="laptop", mode="semantic", explain="true")
    floor = runtime.settings.semantic_floor
    assert all(r["explain"]["semantic"]["score"] >= floor for r in out["results"])
    everything = Runtime(runtime.settings.with_(semantic_floor=-1.0), embedder=runtime.embedder, es=runtime.es)
    assert len(search(everything, q="laptop", mode="semantic")["results"]) > len(out["results"])


def test_a_query_that_matches_well_costs_one_request(runtime, es, monkeypatch):
    calls: list[dict[str, Any]] = []
    real = es.search

    def counting(**body: Any) -> Any:
        calls.append(body)
        return real(**body)

    monkeypatch.setattr(es, "search", counting)
    keyword.search(es, runtime.settings.products_alias, parse_search({"q": "cervical pillow"}), size=10,
                   relax_below=1)
    assert len(calls) == 1
    calls.clear()
    keyword.search(es, runtime.settings.products_alias, parse_search({"q": "cervical pilow"}), size=10,
                   relax_below=1)
    # strict (nothing), probe + spelling, co-occurrence check, the corrected search (which matches)
    assert len(calls) == 4 and "suggest" in calls[1] and calls[1]["size"] == 0 and "suggest" not in calls[0]
    assert calls[2]["size"] == 0 and calls[3]["size"] == 10
